"""`dlt node init` and `dlt node enrol`: an organisation joins an existing network.

`init` needs only the doorman's URL and the network root certificate (the one file an
organisation receives by hand). It writes the node directory (config.json, truststore.pem and
rpc.json with a fresh RPC password) and asks the doorman for a node CA certificate: the node CA
key and the CSR stay in the directory, the doorman's ticket is printed for the network operator,
who approves it with `python -m networkmap approve`. `enrol` waits for that approval, issues
the node's TLS and legal identity certificates, so the organisation's broker can be set up
before the node first starts (`dlt node run` enrols by itself too), and publishes the node's
NodeInfo. `init --notary-replica-of SERVICE` makes a notary replica: the operator forms the
cluster from the published identities (`python -m networkmap notary-cluster`) and the replica
learns its service key from the network parameters when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
from pathlib import Path

from dlt.cli.main import CommandError
from dlt.identity import CertificateFormatError, InvalidX500NameError, X500Name, certs_from_pem

DEFAULT_CORDAPPS = ("cordapp_energy",)
RPC_USER = "operator"


def add_commands(group: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = group.add_parser(
        "init", help="create a node directory and ask the doorman to admit the node"
    )
    init.add_argument("--doorman", required=True, metavar="URL", help="https://host:port")
    init.add_argument(
        "--network-root", type=Path, required=True, metavar="PEM", help="the network root CA"
    )
    init.add_argument("--name", required=True, metavar="X500", help="the legal name to ask for")
    init.add_argument("--directory", type=Path, required=True, metavar="DIR")
    init.add_argument(
        "--broker",
        required=True,
        metavar="URL",
        help="this organisation's broker, as peers reach it: amqps://host:port/%%2F",
    )
    init.add_argument(
        "--broker-declares-inbox",
        action="store_true",
        help="the broker's operator declares the node's inbox (a consortium's quorum queue)",
    )
    init.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: SQLite)")
    init.add_argument("--rpc-address", default="127.0.0.1:10003", metavar="HOST:PORT")
    init.add_argument("--metrics-address", metavar="HOST:PORT")
    init.add_argument(
        "--notary-replica-of",
        type=_service_name,
        metavar="X500",
        help="this node is a replica of the named notary service (the operator forms the "
        "cluster; the node learns the service key from the network parameters)",
    )
    init.add_argument(
        "--cordapp",
        action="append",
        dest="cordapps",
        metavar="PACKAGE",
        help=f"CorDapp package to install (repeatable; default {', '.join(DEFAULT_CORDAPPS)})",
    )
    init.set_defaults(handler=init_command)

    enrol = group.add_parser(
        "enrol", help="wait for the doorman's approval and issue the node's certificates"
    )
    enrol.add_argument("--config", type=Path, required=True)
    enrol.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    enrol.set_defaults(handler=enrol_command)


def init_command(args: argparse.Namespace) -> int:
    from dlt.node.config import NodeConfig
    from dlt.node.enrolment import request_registration
    from dlt.node.network_map_client import NetworkMapClient, NetworkMapClientError
    from dlt.rpc.users import hash_password

    name = _name(args.name)
    root_pem = _root(args.network_root)
    directory: Path = args.directory
    if (directory / "config.json").exists():
        raise CommandError(f"{directory} already holds a node (config.json); pick another")
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    config = {
        "name": str(name),
        "directory": ".",
        "database_url": args.database,
        "messaging": {
            "broker_url": args.broker,
            "declare_inbox": not args.broker_declares_inbox,
        },
        "rpc": {
            "address": args.rpc_address,
            "users": [
                {
                    "username": RPC_USER,
                    "password_hash": hash_password(password),
                    "permissions": ["ALL"],
                }
            ],
        },
        "metrics": {"address": args.metrics_address} if args.metrics_address else None,
        "network_map": {"url": args.doorman, "poll_seconds": 2.0},
        "cordapps": list(args.cordapps or DEFAULT_CORDAPPS),
        "dev_mode": False,
    }
    if args.notary_replica_of is not None:
        if args.notary_replica_of == name:
            raise CommandError(
                f"--name and --notary-replica-of are both {name}; a replica needs its own name"
            )
        config["notary"] = {"replica_of": str(args.notary_replica_of)}
    try:
        NodeConfig.model_validate({**config, "directory": directory})
    except ValueError as exc:
        raise CommandError(f"these settings do not make a node config: {exc}") from exc
    (directory / "truststore.pem").write_bytes(root_pem)
    try:
        with NetworkMapClient(args.doorman, root_pem) as client:
            _, ticket = request_registration(directory, name, client)
    except NetworkMapClientError as exc:
        raise CommandError(
            f"the doorman at {args.doorman} did not take the request: {exc}"
        ) from exc
    _write_private(directory / "config.json", config)
    _write_private(
        directory / "rpc.json",
        {
            "name": str(name),
            "address": args.rpc_address,
            "ca": "truststore.pem",
            "username": RPC_USER,
            "password": password,
        },
    )
    print(f"created node directory {directory} for {name}")
    print(f"doorman ticket {ticket.id}: the network operator approves it with")
    print(f"  python -m networkmap approve --home <network home> {ticket.id}")
    return 0


def enrol_command(args: argparse.Namespace) -> int:
    from dlt.node.announcement import announce
    from dlt.node.config import ConfigError, NodeConfig
    from dlt.node.enrolment import EnrolmentPendingError, enrol
    from dlt.node.network_map_client import NetworkMapClient, NetworkMapClientError

    try:
        config = NodeConfig.load(args.config)
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc
    root_pem = (config.directory / "truststore.pem").read_bytes()
    try:
        with NetworkMapClient(config.network_map.url, root_pem) as client:
            certs = asyncio.run(
                enrol(config.directory, config.name, client, timeout=args.timeout, say=print)
            )
            print(
                f"{certs.party.name} holds its certificates in {config.directory / 'certificates'}"
            )
            announce(config, certs, client)
    except (EnrolmentPendingError, NetworkMapClientError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"published its NodeInfo (legal identity key {certs.party.owning_key.to_string()})")
    return 0


def _name(text: str) -> X500Name:
    try:
        return X500Name.parse(text)
    except InvalidX500NameError as exc:
        raise CommandError(
            f"--name {text!r} is not an X.500 name ({exc}); write e.g. 'O=Alice, L=Leeds, C=GB'"
        ) from exc


def _service_name(text: str) -> X500Name:
    try:
        return X500Name.parse(text)
    except InvalidX500NameError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an X.500 name ({exc}); write e.g. 'O=Notary Service, L=Zurich, C=CH'"
        ) from exc


def _root(path: Path) -> bytes:
    try:
        pem = path.read_bytes()
        certs = certs_from_pem(pem)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except CertificateFormatError as exc:
        raise CommandError(f"{path} is not a PEM certificate: {exc}") from exc
    if len(certs) != 1:
        raise CommandError(f"{path} must hold exactly the network root certificate")
    return pem


def _write_private(path: Path, data: dict[str, object]) -> None:
    """JSON readable by its owner only: it holds a password or a database URL."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2)
