"""The network the suite attacks: a real local network (`deploy.localnet`) with roles.

The suite's own network (`make attacks`) has a notary cluster of four replicas (f = 1), the
bank, the market operator, two producers and two consumers. Consumer 1 pays Producer 1 as
the honest workload; Consumer 2 is the attacker and Producer 2 its accomplice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.localnet import Localnet, Member, Shape, fault_tolerance
from dlt.rpc.client import RpcClient

BANK = "O=Community Bank, L=London, C=GB"
OPERATOR = "O=Market Operator, L=London, C=GB"
HONEST_PAYER = "O=Consumer 1, L=York, C=GB"
HONEST_PAYEE = "O=Producer 1, L=Leeds, C=GB"
ATTACKER = "O=Consumer 2, L=York, C=GB"
ACCOMPLICE = "O=Producer 2, L=Leeds, C=GB"
CURRENCY = "EUR"

SUITE_SHAPE = Shape(replicas=4, producers=2, consumers=2, cordapps=("cordapp_bench",))
"""cordapp_bench issues the attacker its coins in bulk (`bench.IssuePaymentBatch`)."""


class AttackNetworkError(Exception):
    """The network cannot be attacked as it is; the message says what to change."""


@dataclass
class AttackNetwork:
    """A running local network and how to reach its nodes."""

    localnet: Localnet

    @property
    def home(self) -> Path:
        return self.localnet.home

    def member(self, name: str) -> Member:
        return self.localnet.member(name)

    @property
    def replicas(self) -> list[Member]:
        """The notary replicas of the (first) notary service."""
        notaries = [m for m in self.localnet.members if m.is_notary]
        first = notaries[0].service or notaries[0].name
        return [m for m in notaries if (m.service or m.name) == first]

    @property
    def fault_tolerance(self) -> int:
        return fault_tolerance(len(self.replicas))

    def shape(self) -> dict[str, object]:
        """What the report records of the network: enough to build it again."""
        members = self.localnet.members
        return {
            "notary_services": len({m.service or m.name for m in members if m.is_notary}),
            "replicas": len(self.replicas),
            "fault_tolerance": self.fault_tolerance,
            "validating": any(m.validating for m in members if m.is_notary),
            "producers": sum(m.role == "producer" for m in members),
            "consumers": sum(m.role == "consumer" for m in members),
        }

    @asynccontextmanager
    async def rpc(self, node: str) -> AsyncIterator[RpcClient]:
        member = self.member(node)
        directory = self.localnet.node_dir(member)
        raw = json.loads((directory / "rpc.json").read_text())
        ca = (directory / raw["ca"]).read_bytes()
        async with RpcClient(
            raw["address"], raw["username"], raw["password"], ca, node_name=member.x500
        ) as client:
            yield client

    def check(self) -> None:
        """Refuse a network the scenarios cannot run on, saying how to build one that works."""
        names = {m.name for m in self.localnet.members}
        missing = [
            n for n in (BANK, HONEST_PAYER, HONEST_PAYEE, ATTACKER, ACCOMPLICE) if n not in names
        ]
        if missing:
            raise AttackNetworkError(
                f"the network in {self.home} has no {', '.join(missing)}; attack a network with "
                "two producers and two consumers (dlt localnet up --producers 2 --consumers 2)"
            )
        config = json.loads((self.localnet.node_dir(self.member(BANK)) / "config.json").read_text())
        if "cordapp_bench" not in config.get("cordapps", []):
            raise AttackNetworkError(
                f"the network in {self.home} lacks cordapp_bench, which issues the attacker's "
                "coins in bulk; build it with dlt localnet up --cordapp cordapp_bench"
            )
