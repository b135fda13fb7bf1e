"""`dlt localnet up|down|status|logs|kill|revoke`: a whole network on this machine, from one
command.

The implementation is the deploy tooling (`deploy.localnet`); this module is its command line.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.cli.progress import Progress
from dlt.cli.table import table
from dlt.identity import InvalidX500NameError, X500Name

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def _localnet() -> Any:
    """The deploy tooling, imported when a localnet command runs (the node never needs it)."""
    try:
        import deploy.localnet as localnet
    except ImportError as exc:
        raise CommandError(
            f"the local network tooling is not installed with this dlt ({exc}); install the "
            "project from its source checkout (pip install -e .)"
        ) from exc
    return localnet


def register(subparsers: Subparsers) -> None:
    group = add_group(subparsers, "localnet", summary="run a whole network on this machine")
    up = group.add_parser("up", help="create and start the local network (safe to repeat)")
    up.add_argument("--notaries", type=int, default=1, help="notary services (default 1)")
    up.add_argument(
        "--replicas", type=int, default=1, help="replicas per notary service (4 tolerates 1 faulty)"
    )
    up.add_argument("--validating", action="store_true", help="make the notaries validating")
    up.add_argument("--producers", type=int, default=2, help="producers (default 2)")
    up.add_argument("--consumers", type=int, default=2, help="consumers (default 2)")
    up.add_argument(
        "--cordapp",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="another CorDapp every node installs (repeatable), e.g. cordapp_bench",
    )
    up.add_argument(
        "--database-url",
        metavar="URL",
        help="SQLAlchemy URL with {node} for each node's database (which must exist); "
        "default: an SQLite file per node",
    )
    up.add_argument(
        "--byzantine",
        metavar="REPLICA=MODE[,REPLICA=MODE]",
        help="make notary replicas faulty, for attack drills (modes: crash, delay=SECONDS, "
        "discard, garbage-signatures, false-conflict, forged-refusal, equivocate, inject); "
        "'none' makes every replica honest again; at most f per cluster",
    )
    up.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="allow more than f faulty replicas per cluster (to see what f + 1 break)",
    )
    up.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health")
    up.set_defaults(handler=up_command)
    down = group.add_parser("down", help="stop every process the local network started")
    down.set_defaults(handler=down_command)
    status = group.add_parser("status", help="show whether each component is running")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=status_command)
    logs = group.add_parser("logs", help="show a component's log")
    logs.add_argument("component", help="broker, networkmap, or a node's name")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(handler=logs_command)
    kill = group.add_parser("kill", help="SIGKILL one component, as a crash would")
    kill.add_argument("component")
    kill.set_defaults(handler=kill_command)
    revoke = group.add_parser(
        "revoke", help="revoke a node: the doorman lists it on its CRL, the broker shuts it out"
    )
    revoke.add_argument("name", help="the node's X.500 name, e.g. 'O=Consumer 2, L=York, C=GB'")
    revoke.add_argument("--reason", required=True, help="recorded with the revocation")
    revoke.set_defaults(handler=revoke_command)
    for parser in (up, down, status, logs, kill, revoke):
        parser.add_argument(
            "--home", type=Path, help="network directory (default: $DLT_HOME, else ./localnet)"
        )


def _net(args: argparse.Namespace) -> tuple[Any, Any]:
    localnet = _localnet()
    return localnet, localnet.Localnet(localnet.resolve_home(args.home))


def up_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    progress = Progress()
    try:
        shape = localnet.Shape(
            notaries=args.notaries,
            replicas=args.replicas,
            validating=args.validating,
            producers=args.producers,
            consumers=args.consumers,
            cordapps=tuple(args.cordapp),
            database_url=args.database_url,
            byzantine=(
                None if args.byzantine is None else localnet.parse_byzantine(args.byzantine)
            ),
            allow_unsafe=args.allow_unsafe,
        )
        with progress.working(f"Bringing up the local network in {net.home}"):
            rows = net.up(shape, progress.step, timeout=args.timeout)
    except (localnet.LocalnetError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    progress.step(f"The local network is up ({len(rows)} processes)")
    _print_status(rows)
    explorer = next((row for row in rows if row.component == "explorer"), None)
    if explorer is not None:
        print(f"\nExplorer: {explorer.address}")
        print(
            f"  log in as {localnet.RPC_USER}; the password is in "
            f"{net.home}/nodes/{localnet.EXPLORER_NODE}*/rpc.json"
        )
    print(f"\nThe network runs in {net.home}. Drive it with, for example:")
    print("  dlt network peers --node market-operator")
    print(f"Stop it with: dlt localnet down --home {net.home}")
    return EXIT_OK


def down_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    try:
        net.down(Progress().step)
    except localnet.LocalnetError as exc:
        raise CommandError(str(exc)) from exc
    print(f"Stopped the local network in {net.home}")
    return EXIT_OK


def _print_status(rows: list[Any]) -> None:
    print(
        table(
            ["component", "role", "pid", "state", "address"],
            [
                [
                    row.component,
                    row.role,
                    row.pid or "-",
                    _state(row.running, row.stopped_on_purpose),
                    row.address,
                ]
                for row in rows
            ],
        )
    )


def _state(running: bool, on_purpose: bool = False) -> str:
    if running:
        return "running"
    return "crashed (configured)" if on_purpose else "stopped"


def _component(net: Any, name: str) -> str:
    return name if name in ("broker", "networkmap", "explorer") else str(net.member(name).slug)


def status_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    try:
        rows = net.status()
    except localnet.LocalnetError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        _print_status(rows)
    return EXIT_OK if all(row.running or row.stopped_on_purpose for row in rows) else 1


def logs_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    try:
        component = _component(net, args.component)
        print(net.tail(component, args.lines))
        if args.follow:
            path = net.log_file(component)
            with path.open(errors="replace") as handle:
                handle.seek(0, 2)
                while True:
                    line = handle.readline()
                    if line:
                        print(line, end="", flush=True)
                    else:
                        time.sleep(0.3)
    except localnet.LocalnetError as exc:
        raise CommandError(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def kill_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    try:
        component = _component(net, args.component)
        net.kill(component)
    except localnet.LocalnetError as exc:
        raise CommandError(str(exc)) from exc
    print(f"Killed {component}; bring it back with: dlt localnet up")
    return EXIT_OK


def revoke_command(args: argparse.Namespace) -> int:
    localnet, net = _net(args)
    try:
        name = X500Name.parse(args.name)
    except InvalidX500NameError as exc:
        raise CommandError(f"{args.name!r} is not an X.500 name: {exc}") from exc
    try:
        net.revoke(name, args.reason, print)
    except localnet.LocalnetError as exc:
        raise CommandError(str(exc)) from exc
    return EXIT_OK
