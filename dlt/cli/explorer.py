"""`dlt explorer`: a read-only web UI for one node, over its RPC, on loopback and TLS.

    dlt explorer --node market-operator            # a node of the local network
    dlt explorer --address HOST:PORT --ca root.pem --tls-cert cert.pem --tls-key key.pem

People log in with the node's RPC usernames and passwords; the node checks them. With
`--node`, the explorer serves with that node's own TLS certificate (it chains to the network
root); otherwise give a certificate and key. It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.endpoints import DEFAULT_HOME, HOME_ENV, endpoint_from, node_directory
from dlt.cli.main import EXIT_OK, CommandError

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

DEFAULT_LISTEN = "127.0.0.1:0"


def register(subparsers: Subparsers) -> None:
    command = subparsers.add_parser(
        "explorer",
        help="serve a read-only web UI for a node",
        description="Serve a read-only web UI for one node over its RPC, over TLS.",
    )
    target = command.add_mutually_exclusive_group()
    target.add_argument("--node", metavar="NAME", help="a node of the local network directory")
    target.add_argument("--address", metavar="HOST:PORT", help="the node's RPC address")
    command.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help=f"local network directory for --node (default: ${HOME_ENV}, else ./{DEFAULT_HOME})",
    )
    command.add_argument(
        "--node-name",
        metavar="X500",
        help="with --address: the node's legal name, which its TLS certificate must carry "
        "(with --node it is read from the network directory)",
    )
    command.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help="PEM certificate the node's RPC certificate chains to",
    )
    command.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to serve (default {DEFAULT_LISTEN}: loopback, a free port)",
    )
    command.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="PEM certificate chain to serve (default with --node: the node's)",
    )
    command.add_argument("--tls-key", type=Path, metavar="FILE", help="its PEM private key")
    command.set_defaults(handler=explorer_command, help_parser=command, user=None, password=None)


def explorer_command(args: argparse.Namespace) -> int:
    """Handler of `dlt explorer`."""
    endpoint = endpoint_from(args)
    cert, key = args.tls_cert, args.tls_key
    if args.node is not None and cert is None and key is None:
        certificates = node_directory(args.home, args.node) / "certificates"
        cert, key = certificates / "tls.pem", certificates / "tls.key"
    if cert is None or key is None:
        raise CommandError("the explorer serves only over TLS: give --tls-cert and --tls-key")
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        raise CommandError(f"--listen must be HOST:PORT, got {args.listen!r}")
    try:
        ca_pem = endpoint.ca_pem_path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {endpoint.ca_pem_path}: {exc.strerror or exc}") from exc
    try:
        from explorer.server import serve
    except ImportError as exc:
        raise CommandError(f"the explorer is not installed with this dlt ({exc})") from exc
    from dlt.web import AppServerError

    try:
        serve(
            endpoint.address,
            ca_pem,
            cert,
            key,
            host.strip("[]"),
            int(port),
            say=lambda text: print(text, flush=True),
            node_name=endpoint.name,
        )
    except (AppServerError, OSError) as exc:
        raise CommandError(f"cannot serve the explorer: {exc}") from exc
    print("explorer stopped", file=sys.stderr)
    return EXIT_OK
