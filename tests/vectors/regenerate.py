"""Rewrite ledger_v2.json from tests/fixtures/vectors.py.

Only run this together with a PLATFORM_VERSION bump: the vectors pin the wire format, and a
change to them means nodes of the old and new versions can no longer verify each other.
Usage: python tests/vectors/regenerate.py [--output PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(TESTS))
    from fixtures.vectors import VECTORS_PATH, render_vectors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=VECTORS_PATH, help="where to write")
    args = parser.parse_args()
    args.output.write_text(render_vectors())
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
