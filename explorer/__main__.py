"""`python -m explorer ...` is `dlt explorer ...` (how `dlt localnet up` starts it)."""

import sys

from dlt.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["explorer", *sys.argv[1:]]))
