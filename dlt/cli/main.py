"""Entry point of the `dlt` console script.

Every command group is a module under `dlt.cli` with a `register(subparsers)` function that adds
its parser and gives each command a handler with `set_defaults(handler=...)`. A handler takes the
parsed arguments and returns the exit code; it raises `CommandError` for failures the user can
fix, which are reported as one line on stderr with exit code 1 instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

from dlt import PLATFORM_VERSION, __version__

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

Handler: TypeAlias = Callable[[argparse.Namespace], int]

PROG = "dlt"

COMMAND_GROUPS = (
    "keys",
    "tx",
    "flow",
    "vault",
    "network",
    "attachment",
    "localnet",
    "node",
    "broker",
    "explorer",
    "attack",
)
"""Modules of `dlt.cli` that add a command group, in the order `dlt --help` lists them.

They are imported by name when the parser is built, so a group module can import `CommandError`
and `add_group` from here without an import cycle.
"""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A failure the user can act on; `main` prints it on one line and exits with status 1."""


class CommandGroup(Protocol):
    """What a module listed in `COMMAND_GROUPS` provides."""

    def register(self, subparsers: Subparsers) -> None: ...


def add_group(subparsers: Subparsers, name: str, *, summary: str) -> Subparsers:
    """Add command group `name` and return the subparsers its commands are added to.

    Running the group without a command prints the group's help and exits with status 2.
    """
    group = subparsers.add_parser(name, help=summary, description=summary)
    group.set_defaults(help_parser=group)
    return group.add_subparsers(title="commands", metavar="COMMAND")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tools for a dlt energy-trading ledger node and network.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__} (platform {PLATFORM_VERSION})",
    )
    parser.set_defaults(help_parser=parser)
    subparsers = parser.add_subparsers(title="command groups", metavar="GROUP")
    for name in COMMAND_GROUPS:
        group = cast(CommandGroup, importlib.import_module(f"dlt.cli.{name}"))
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = build_parser().parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        args.help_parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except CommandError as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`dlt ... | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
