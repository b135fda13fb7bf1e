"""`dlt broker init|start`: an organisation's own RabbitMQ on its host (see deploy/org_broker).

dlt broker init  --home DIR --listen HOST:PORT --node CONFIG [--node CONFIG]...
                 [--consortium-cookie FILE --cluster-size N [--join NODE]]
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
    cluster = init.add_argument_group(
        "consortium", "this broker is one member of a consortium's RabbitMQ cluster"
    )
    cluster.add_argument(
        "--consortium-cookie", type=Path, metavar="FILE", help="the cluster's shared secret"
    )
    cluster.add_argument("--cluster-size", type=int, metavar="N", help="members in the cluster")
    cluster.add_argument(
        "--join", metavar="NODE", help="the member to join, dlt-consortium@<its address>"
    )
    init.set_defaults(handler=init_command)
    start = group.add_parser("start", help="run the broker and keep its peer users current")
    start.add_argument("--home", type=Path, required=True, metavar="DIR")
    start.set_defaults(handler=start_command)


def init_command(args: argparse.Namespace) -> int:
    from deploy.org_broker import ConsortiumSettings, OrgBrokerError, init_broker
    from dlt.node.config import ConfigError

    consortium = None
    if args.consortium_cookie is not None:
        if not args.cluster_size or args.cluster_size < 1:
            raise CommandError("a consortium member needs --cluster-size N")
        consortium = ConsortiumSettings(args.consortium_cookie, args.cluster_size, args.join)
    elif args.join or args.cluster_size:
        raise CommandError("--join and --cluster-size need --consortium-cookie")
    try:
        settings = init_broker(args.home, args.listen, args.nodes, consortium)
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
