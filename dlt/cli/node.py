"""`dlt node run --config FILE`: run one node process in the foreground; `dlt node init` and
`dlt node enrol` (see dlt.cli.node_init) make a node that joins an existing network."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.main import CommandError, add_group
from dlt.cli.node_init import add_commands

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register(subparsers: Subparsers) -> None:
    group = add_group(subparsers, "node", summary="run a node")
    run = group.add_parser("run", help="run a node until SIGTERM or Ctrl-C")
    run.add_argument("--config", type=Path, required=True, help="node config (.json or .toml)")
    run.set_defaults(handler=run_command)
    add_commands(group)


def run_command(args: argparse.Namespace) -> int:
    from dlt.node.config import ConfigError
    from dlt.node.notary_replica import NotAReplicaError
    from dlt.node.process import run

    try:
        return run(args.config)
    except (ConfigError, NotAReplicaError) as exc:
        raise CommandError(str(exc)) from exc
