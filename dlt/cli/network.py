"""`dlt network`: the network as a node sees it, over its RPC: peers, notaries, itself."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.endpoints import DEFAULT_HOME, HOME_ENV, add_connection_options, call_node, print_json
from dlt.cli.main import EXIT_OK, add_group
from dlt.cli.table import key_values, table
from dlt.identity import X500Name
from dlt.rpc.client import NetworkMapInfo, PeerInfo, RpcClient, as_json
from dlt.rpc.health import notary_health

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `dlt network peers|notaries|info`."""
    network = add_group(subparsers, "network", summary="see the network from a node")
    for name, summary, handler in (
        ("peers", "list the nodes in the node's network map", peers_command),
        ("notaries", "list the notary services of the network parameters", notaries_command),
        ("info", "show the node's own identity and addresses", info_command),
    ):
        command = network.add_parser(
            name, help=summary, description=summary[0].upper() + summary[1:] + "."
        )
        command.add_argument("--json", action="store_true", help="print JSON instead of a table")
        add_connection_options(command)
        command.set_defaults(handler=handler)


def _network_map(args: argparse.Namespace) -> NetworkMapInfo:
    async def work(client: RpcClient) -> NetworkMapInfo:
        return await client.network_map()

    return call_node(args, work)


def peers_command(args: argparse.Namespace) -> int:
    """Handler of `dlt network peers`."""
    network_map = _network_map(args)
    if args.json:
        print_json(as_json(network_map.peers))
        return EXIT_OK
    rows = [
        (
            peer.name,
            peer.fingerprint,
            ", ".join(peer.addresses),
            peer.rpc_address or "",
            peer.platform_version,
        )
        for peer in network_map.peers
    ]
    print(table(("name", "key", "addresses", "rpc", "platform"), rows, empty="no peers"))
    return EXIT_OK


def configured_faults(args: argparse.Namespace) -> dict[X500Name, str]:
    """Replicas the local network directory configured faulty (`dlt localnet up --byzantine`),
    by name; empty when the node was reached by --address or the directory records none.
    What a replica does is its own affair: only the network's builder knows what it set."""
    if getattr(args, "address", None):
        return {}
    home = args.home or Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)
    try:
        members = json.loads((home / "localnet.json").read_text())["members"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {
        X500Name.parse(m["name"]): str(m["byzantine"])
        for m in members
        if isinstance(m, dict) and m.get("byzantine")
    }


def notaries_command(args: argparse.Namespace) -> int:
    """Handler of `dlt network notaries`: each service, whether each replica answers, and
    which the local network configured faulty."""
    network_map = _network_map(args)
    services = notary_health(network_map)
    faults = configured_faults(args)

    def fault(name: str) -> str | None:
        return faults.get(X500Name.parse(name))

    if args.json:
        print_json(
            [
                {
                    "name": service.name,
                    "fingerprint": service.fingerprint,
                    "validating": service.validating,
                    "quorum": service.quorum,
                    "replicas": [
                        {
                            "name": replica.name,
                            "rpc_address": replica.rpc_address,
                            "healthy": replica.healthy,
                            "latency_ms": replica.latency_ms,
                            "configured_fault": fault(replica.name),
                        }
                        for replica in service.replicas
                    ],
                }
                for service in services
            ]
        )
        return EXIT_OK
    rows = [
        (
            service.name,
            "yes" if service.validating else "no",
            f"{service.quorum} of {len(service.replicas)}",
            replica.name,
            "up" if replica.healthy else "DOWN",
            fault(replica.name) or "honest",
        )
        for service in services
        for replica in service.replicas
    ]
    print(
        table(
            ("service", "validating", "quorum", "replica", "health", "configured"),
            rows,
            empty="no notaries",
        )
    )
    print(f"network parameters {network_map.parameters_hash} (epoch {network_map.epoch})")
    return EXIT_OK


def info_command(args: argparse.Namespace) -> int:
    """Handler of `dlt network info`."""

    async def work(client: RpcClient) -> PeerInfo:
        return await client.node_info()

    info = call_node(args, work)
    if args.json:
        print_json(as_json(info))
        return EXIT_OK
    print(
        key_values(
            [
                ("name", info.name),
                ("key", info.owning_key),
                ("fingerprint", info.fingerprint),
                ("addresses", ", ".join(info.addresses) or "none"),
                ("rpc", info.rpc_address or ""),
                ("platform", info.platform_version),
                ("serial", info.serial),
            ]
        )
    )
    return EXIT_OK
