"""How a `dlt` command reaches a node's RPC: options, the local network directory, the call.

Every command that talks to a node takes the same connection options:

- `--address HOST:PORT` with `--ca FILE` (or `$DLT_RPC_CA`): any node, anywhere; with
  `--node-name X500` the node there must prove it is that node;
- or `--node NAME`: a node of a local network directory (`--home DIR`, else `$DLT_HOME`,
  else `./localnet`), which also supplies the CA certificate, default credentials and the
  node's legal name, which the node's TLS certificate must carry (see RpcClient `node_name`);
- `--user` / `--password` (or `$DLT_RPC_USER` / `$DLT_RPC_PASSWORD`) override the user. When
  no password is given anywhere and the command runs at a terminal, it is asked for.

Failures the user can fix (unknown node, missing CA file, refused credentials, a node that is
down) become `CommandError`s: one line on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dlt.cli.main import CommandError
from dlt.identity import X500Name

# gRPC logs TLS and connection failures as lines of its own, at the level this variable names
# when grpc is first imported; a command reports them in one sentence instead (set the variable
# to see them). Every `dlt.cli` module imports this one before `dlt.rpc`: isort puts dlt.cli first.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from dlt.rpc.client import RpcClient, RpcError, TransactionInfo, VaultQuery, VaultStateInfo

T = TypeVar("T")

DEFAULT_HOME = Path("localnet")
HOME_ENV = "DLT_HOME"
USER_ENV = "DLT_RPC_USER"
PASSWORD_ENV = "DLT_RPC_PASSWORD"
CA_ENV = "DLT_RPC_CA"
RPC_FILE = "rpc.json"
PAGE_SIZE = 1_000
"""States or transactions asked for per call when a command needs them all."""


@dataclass(frozen=True)
class NodeEndpoint:
    """Where a node's RPC listens and how to talk to it."""

    address: str
    ca_pem_path: Path
    username: str | None = None
    password: str | None = None
    name: X500Name | None = None
    """The legal name the node's TLS certificate must carry; None checks only the address."""


def node_slug(name: str) -> str:
    """The directory name of node `name` in a network directory.

    `name` is either the slug itself ("alice-solar") or the node's X.500 name, whose
    organisation gives the slug ("O=Alice Solar, L=Leeds, C=GB" -> "alice-solar"):
    lower case, each run of other characters than letters and digits made one "-".
    """
    text = name
    if "=" in name:
        try:
            text = X500Name.parse(name).organisation
        except ValueError as exc:
            raise CommandError(f"--node {name!r} is not a node name: {exc}") from exc
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def resolve_node(home: Path, name: str) -> NodeEndpoint:
    """The RPC endpoint of node `name` in the local network directory `home`.

    Reads `<home>/nodes/<dir>/rpc.json`, found by directory name, by the X.500 name it records,
    or by its organisation's slug (see `node_slug`). It is a JSON object:

        {
          "name": "O=Alice Solar, L=Leeds, C=GB",  # the node's X.500 name
          "address": "127.0.0.1:10003",    # host:port of the node's RPC
          "ca": "../../certificates/root.pem",  # PEM the node's TLS chain ends in;
                                           #   relative paths are from rpc.json's directory
          "username": "operator",          # optional: default RPC user
          "password": "..."                # optional: that user's password
        }

    The file holds a password, so the tooling that writes it should make it readable by its
    owner only.
    """
    nodes = home / "nodes"
    path = _find_rpc_file(nodes, name)
    if path is None:
        known = sorted(p.parent.name for p in nodes.glob(f"*/{RPC_FILE}"))
        listing = f"nodes there: {', '.join(known)}" if known else "it has no nodes with RPC"
        raise CommandError(f"no node {name!r} in network directory {home}; {listing}")
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CommandError(f"{path} must hold a JSON object")
    address, ca = raw.get("address"), raw.get("ca")
    if not isinstance(address, str) or not isinstance(ca, str):
        raise CommandError(f'{path} must give "address" and "ca" as strings')
    username, password = raw.get("username"), raw.get("password")
    recorded = raw.get("name")
    return NodeEndpoint(
        address=address,
        ca_pem_path=(path.parent / ca).resolve(),
        username=username if isinstance(username, str) else None,
        password=password if isinstance(password, str) else None,
        name=_x500(recorded) if isinstance(recorded, str) else None,
    )


def node_directory(home: Path | None, name: str) -> Path:
    """The directory of node `name` in the local network directory `home` (default as for
    --node): where its rpc.json, and its certificates, are."""
    home = home or Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)
    path = _find_rpc_file(home / "nodes", name)
    if path is None:
        resolve_node(home, name)  # raises the CommandError naming the nodes there
        raise CommandError(f"no node {name!r} in {home}")
    return path.parent


def _find_rpc_file(nodes: Path, name: str) -> Path | None:
    """The rpc.json of node `name`: by directory, by X.500 name, or by organisation slug."""
    direct = nodes / name / RPC_FILE
    if "/" not in name and direct.exists():
        return direct
    slug = node_slug(name)
    wanted = _x500(name) if "=" in name else None
    for candidate in sorted(nodes.glob(f"*/{RPC_FILE}")):
        if candidate.parent.name == slug:
            return candidate
        try:
            recorded = json.loads(candidate.read_text()).get("name")
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if not isinstance(recorded, str):
            continue
        if wanted is not None and _x500(recorded) == wanted:
            return candidate
        if wanted is None and node_slug(recorded) == slug:
            return candidate
    return None


def _x500(text: str) -> X500Name | None:
    try:
        return X500Name.parse(text)
    except ValueError:
        return None


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that calls a node's RPC takes."""
    group = parser.add_argument_group("connection")
    target = group.add_mutually_exclusive_group()
    target.add_argument("--address", metavar="HOST:PORT", help="the node's RPC address")
    target.add_argument(
        "--node", metavar="NAME", help="a node of the local network directory, by name"
    )
    group.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help=f"local network directory for --node (default: ${HOME_ENV}, else ./{DEFAULT_HOME})",
    )
    group.add_argument(
        "--node-name",
        metavar="X500",
        help="with --address: the node's legal name, which its TLS certificate must carry "
        "(with --node it is read from the network directory)",
    )
    group.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help=f"PEM certificate the node's TLS certificate chains to (default: ${CA_ENV})",
    )
    group.add_argument("--user", metavar="NAME", help=f"RPC username (default: ${USER_ENV})")
    group.add_argument(
        "--password",
        metavar="TEXT",
        help=f"RPC password (default: ${PASSWORD_ENV}, which unlike an option other local users "
        "cannot see in the process list; asked for at a terminal when neither is given)",
    )
    group.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per-call timeout"
    )


def endpoint_from(args: argparse.Namespace) -> NodeEndpoint:
    """The endpoint the options name, with flags over environment over the directory."""
    if args.node is not None:
        home = args.home or Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)
        base = resolve_node(home, args.node)
    elif args.address is not None:
        ca = args.ca or (Path(os.environ[CA_ENV]) if os.environ.get(CA_ENV) else None)
        if ca is None:
            raise CommandError(
                f"--address needs the CA certificate that issued the node's TLS certificate: "
                f"--ca FILE or ${CA_ENV}"
            )
        base = NodeEndpoint(address=args.address, ca_pem_path=ca)
    else:
        raise CommandError("say which node: --address HOST:PORT or --node NAME")
    name = base.name
    if args.node_name is not None:
        try:
            name = X500Name.parse(args.node_name)
        except ValueError as exc:
            raise CommandError(
                f"--node-name {args.node_name!r} is not a legal name: {exc}"
            ) from exc
    return NodeEndpoint(
        address=base.address,
        ca_pem_path=args.ca or base.ca_pem_path,
        username=args.user or os.environ.get(USER_ENV) or base.username,
        password=args.password or os.environ.get(PASSWORD_ENV) or base.password,
        name=name,
    )


def connect(args: argparse.Namespace) -> RpcClient:
    """A client for the node and user the options name."""
    endpoint = endpoint_from(args)
    if not endpoint.username:
        raise CommandError(f"no RPC user: give --user or set ${USER_ENV}")
    password = endpoint.password
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(f"no RPC password: give --password or set ${PASSWORD_ENV}")
        password = getpass.getpass(f"RPC password for {endpoint.username}: ")
    try:
        ca_pem = endpoint.ca_pem_path.read_bytes()
    except OSError as exc:
        raise CommandError(
            f"cannot read CA certificate {endpoint.ca_pem_path}: {exc.strerror or exc}"
        ) from exc
    if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise CommandError(f"{endpoint.ca_pem_path} is not a PEM certificate")
    return RpcClient(
        endpoint.address,
        endpoint.username,
        password,
        ca_pem,
        node_name=endpoint.name,
        timeout=args.timeout,
    )


def call_node(args: argparse.Namespace, work: Callable[[RpcClient], Awaitable[T]]) -> T:
    """Run `work` against the node the options name; RPC failures become CommandErrors."""

    async def run() -> T:
        async with connect(args) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except RpcError as exc:
        raise CommandError(str(exc)) from exc


async def all_transactions(client: RpcClient, page_size: int = PAGE_SIZE) -> list[TransactionInfo]:
    """Every transaction the node recorded, oldest first, fetched a page at a time."""
    transactions: list[TransactionInfo] = []
    page_number = 1
    while True:
        page = await client.list_transactions(page_number, page_size)
        transactions.extend(page.transactions)
        if not page.transactions or len(transactions) >= page.total:
            return transactions
        page_number += 1


async def all_states(client: RpcClient, page_size: int = PAGE_SIZE) -> list[VaultStateInfo]:
    """Every unconsumed state in the node's vault, fetched a page at a time."""
    states: list[VaultStateInfo] = []
    page_number = 1
    while True:
        page = await client.vault_query(VaultQuery(page_number=page_number, page_size=page_size))
        states.extend(page.states)
        if not page.has_next or not page.states:
            return states
        page_number += 1


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
