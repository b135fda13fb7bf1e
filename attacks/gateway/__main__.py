"""`python -m attacks.gateway --home DIR [--out FILE]`: run the gateway attack on a running
local network (`dlt localnet up --notaries 2 --producers 2 --consumers 3 --home DIR`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from attacks.gateway.report import table
from attacks.gateway.run import run_gateway_attack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attacks.gateway")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"gateway: {line}", file=sys.stderr, flush=True)

    result = asyncio.run(run_gateway_attack(args.home.resolve(), say))
    document = result.as_json()
    if args.out is not None:
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(table(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
