"""`dlt broker init|start`: an organisation's own RabbitMQ on its host (see deploy/org_broker).

dlt broker init  --home DIR --listen HOST:PORT --node CONFIG [--node CONFIG]...
dlt broker start --home DIR      (foreground, until SIGTERM or Ctrl-C)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.main import CommandError, add_group

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register(subparsers: Subparsers) -> None:
    group = add_group(subparsers, "broker", summary="run an organisation's own message broker")
    init = group.add_parser("init", help="issue the broker's TLS identity and write its settings")
    init.add_argument("--home", type=Path, required=True, metavar="DIR")
    init.add_argument(
        "--listen", required=True, metavar="HOST:PORT", help="the address peers reach it at"
    )
    init.add_argument(
        "--node",
        action="append",
        dest="nodes",
        type=Path,
        required=True,
        metavar="CONFIG",
        help="config.json of an enrolled node this broker hosts (repeatable; the first node's "
        "CA issues the broker's certificate)",
    )
    init.set_defaults(handler=init_command)
    start = group.add_parser("start", help="run the broker and keep its peer users current")
    start.add_argument("--home", type=Path, required=True, metavar="DIR")
    start.set_defaults(handler=start_command)


def init_command(args: argparse.Namespace) -> int:
    from deploy.org_broker import OrgBrokerError, init_broker
    from dlt.node.config import ConfigError

    try:
        settings = init_broker(args.home, args.listen, args.nodes)
    except (OrgBrokerError, ConfigError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"broker for {len(settings.node_configs)} node(s) set up in {args.home}")
    print(f"its nodes' config must say messaging.broker_url = {settings.url}")
    return 0


def start_command(args: argparse.Namespace) -> int:
    from deploy.org_broker import OrgBrokerError, serve
    from deploy.rabbitmq import BrokerError
    from dlt.node.config import ConfigError

    try:
        return serve(args.home)
    except (OrgBrokerError, BrokerError, ConfigError) as exc:
        raise CommandError(str(exc)) from exc
