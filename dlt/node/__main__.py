"""`python -m dlt.node --config FILE`: run one node."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlt.node.config import ConfigError
from dlt.node.process import run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m dlt.node", description="Run a node.")
    parser.add_argument("--config", type=Path, required=True, help="node.toml or node.json")
    args = parser.parse_args()
    try:
        return run(args.config)
    except ConfigError as exc:
        print(f"dlt node: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
