"""A local network's files: localnet.json (who is in it, which ports), building the network
offline (certificates, parameters), and each node's config.json and rpc.json.

    <home>/localnet.json        who is in the network and which ports they use
    <home>/ca, service, ...     the network built offline by the bootstrapper (see networkmap)
    <home>/nodes/<slug>/        each node: certificates, config.json, rpc.json, node.db, node.log
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cordapp_energy.market_rules import MARKET_RULES_SIGNERS
from cordapp_energy.meters import METER_CA_SIGNERS
from deploy.localnet.errors import LocalnetError
from deploy.localnet.listen_ports import ListenPorts
from deploy.localnet.shape import (
    METERS_INSTALLED_BEFORE,
    RPC_USER,
    Member,
    Ports,
    Say,
    Shape,
    database_name,
    parties_for,
    service_names,
    slug,
)
from deploy.monitoring import write_monitoring_files
from dlt.identity import X500Name
from dlt.rpc.users import hash_password
from networkmap.bootstrap import bootstrap_network

CORDAPPS = ("cordapp_energy", "cordapp_energy.attacks", "attacks.flows")
"""A development network also carries the attack-injection flows, to try them from the CLI
and for the attack suite (`dlt attack`)."""
STATE_FILE = "localnet.json"
BYZANTINE_SERVICE = "notary.byzantine"


class NetworkFiles:
    """The files of the local network in `home`: its recorded members and ports, node files."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    @property
    def exists(self) -> bool:
        return self.state_file.exists()

    def node_dir(self, member: Member) -> Path:
        return self.home / "nodes" / member.slug

    def log_file(self, component: str) -> Path:
        if component == "broker":
            return self.home / "broker" / "service.log"
        if component == "networkmap":
            return self.home / "networkmap.log"
        if component == "explorer":
            return self.home / "explorer.log"
        member = self.member(component)
        return self.node_dir(member) / "node.log"

    def tail(self, component: str, lines: int = 40) -> str:
        path = self.log_file(component)
        if not path.exists():
            return "(no log yet)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def load(self) -> tuple[Ports, list[Member]]:
        if not self.exists:
            raise LocalnetError(
                f"no local network in {self.home}; create one with: dlt localnet up"
            )
        raw = json.loads(self.state_file.read_text())
        return Ports(**raw["ports"]), [Member(**m) for m in raw["members"]]

    def save(self, ports: Ports, members: list[Member]) -> None:
        self.state_file.write_text(
            json.dumps({"ports": asdict(ports), "members": [asdict(m) for m in members]}, indent=2)
        )

    @property
    def members(self) -> list[Member]:
        return self.load()[1]

    def member(self, name: str) -> Member:
        """A member by slug, X.500 name or organisation (case-insensitive)."""
        wanted = name.strip().lower()
        try:
            as_x500: X500Name | None = X500Name.parse(name) if "=" in name else None
        except ValueError:
            as_x500 = None
        for member in self.members:
            if as_x500 is not None and member.x500 == as_x500:
                return member
            organisation = member.x500.organisation.lower()
            aliases = (member.slug, member.name.lower(), organisation, slug(organisation))
            if wanted in aliases:
                return member
        known = ", ".join(m.slug for m in self.members)
        raise LocalnetError(f"no node {name!r} in {self.home}; nodes: {known}")

    # -- creating ---------------------------------------------------------------------------

    def create(self, shape: Shape, say: Say) -> None:
        """Build the network offline: certificates, parameters, configs and RPC credentials."""
        if self.exists:
            return
        if self.home.exists() and any(self.home.iterdir()):
            raise LocalnetError(
                f"{self.home} is not empty and holds no local network; pick another --home"
            )
        say(f"Creating a local network in {self.home}")
        services = [X500Name.parse(name) for name in service_names(shape)]
        parties = parties_for(shape)
        operators = [X500Name.parse(name) for name, role in parties if role == "market-operator"]
        common: dict[str, Any] = {
            "nodes": [X500Name.parse(name) for name, _ in parties],
            "dev": True,
            "trusted_signers": {MARKET_RULES_SIGNERS: operators},
            "meters": [X500Name.parse(name) for name, role in parties if role == "producer"],
            "meters_since": datetime.now(UTC) - METERS_INSTALLED_BEFORE,
            "doorman_trusted_for": [METER_CA_SIGNERS],
        }
        if shape.replicas == 1:
            result = bootstrap_network(
                self.home, notaries=[(service, shape.validating) for service in services], **common
            )
        else:
            result = bootstrap_network(
                self.home,
                notary_clusters=[(s, shape.validating, shape.replicas) for s in services],
                **common,
            )
        clustered = {
            replica.name
            for info in result.parameters.notaries
            if info.replicas
            for replica in info.replicas
        }
        service_of = {
            replica.name: info.identity
            for info in result.parameters.notaries
            for replica in info.replica_parties
        }
        listen = ListenPorts()
        ports = Ports(broker=listen.take(), network_map=listen.take(), explorer=listen.take())
        members = [
            Member(
                name=str(node.name),
                slug=node.slug,
                role=dict(parties).get(str(node.name), "notary"),
                rpc_port=listen.take(),
                metrics_port=listen.take(),
                validating=shape.validating if node.notary is not None else False,
                service=str(service_of[node.name].name) if node.name in clustered else None,
                service_key=(
                    service_of[node.name].owning_key.to_string() if node.name in clustered else None
                ),
            )
            for node in sorted(result.nodes, key=lambda n: (n.notary is None, str(n.name)))
        ]
        for member in members:
            self._write_node_files(member, ports, shape)
        self.save(ports, members)
        write_monitoring_files(self.home, members)

    def _write_node_files(self, member: Member, ports: Ports, shape: Shape) -> None:
        directory = self.node_dir(member)
        password = secrets.token_urlsafe(18)
        config = {
            "name": member.name,
            "directory": ".",
            "database_url": (
                shape.database_url.replace("{node}", database_name(member))
                if shape.database_url
                else None
            ),
            "messaging": {"broker_url": f"amqps://127.0.0.1:{ports.broker}/%2F"},
            "rpc": {
                "address": f"127.0.0.1:{member.rpc_port}",
                "users": [
                    {
                        "username": RPC_USER,
                        "password_hash": hash_password(password),
                        "permissions": ["ALL"],
                    }
                ],
            },
            "metrics": {"address": f"127.0.0.1:{member.metrics_port}"},
            "network_map": {"url": f"https://127.0.0.1:{ports.network_map}", "poll_seconds": 2.0},
            "notary": notary_config(member),
            "cordapps": list(dict.fromkeys([*CORDAPPS, *shape.cordapps])),
        }
        write_private(directory / "config.json", config)
        rpc = {
            "name": member.name,
            "address": f"127.0.0.1:{member.rpc_port}",
            "ca": "truststore.pem",
            "username": RPC_USER,
            "password": password,
        }
        write_private(directory / "rpc.json", rpc)

    # -- changing a node's config -----------------------------------------------------------

    def write_notary_config(self, member: Member) -> None:
        """Rewrite `member`'s notary section for how it is now configured (honest or faulty)."""
        path = self.node_dir(member) / "config.json"
        config = json.loads(path.read_text())
        config["notary"] = notary_config(member)
        write_private(path, config)

    def set_rpc_user(
        self, member: Member, username: str, password: str, permissions: list[str]
    ) -> None:
        """Give `member` an RPC user `username`, replacing one so named (it takes effect when
        the node next starts)."""
        path = self.node_dir(member) / "config.json"
        config = json.loads(path.read_text())
        users = [u for u in config["rpc"]["users"] if u["username"] != username]
        users.append(
            {
                "username": username,
                "password_hash": hash_password(password),
                "permissions": permissions,
            }
        )
        config["rpc"]["users"] = users
        write_private(path, config)


def notary_config(member: Member) -> dict[str, object] | None:
    """The `notary` section of a node's config.json: None for a party, and for a replica
    configured faulty (and not crashed) the Byzantine service and its behaviour."""
    if not member.is_notary:
        return None
    config: dict[str, object] = {"validating": member.validating}
    if member.service is not None:
        config["service"] = {"name": member.service, "owning_key": member.service_key}
    if member.byzantine is not None and not member.crashed:
        config["service_module"] = BYZANTINE_SERVICE
        config["behaviour"] = member.byzantine
    return config


def write_private(path: Path, data: dict[str, object]) -> None:
    """JSON readable by its owner only: it may hold a password (RPC, database URL)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2)
