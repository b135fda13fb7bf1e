"""The simulator against a running local network (`dlt localnet up`): every flow through RPC.

Households are the network's nodes, one process each: prosumer i is "Producer i" and consumer i
is "Consumer i". Each producer's meter is the device key the bootstrapper made for it
(`<home>/meters/<node>/`), which no node holds; the simulator plays the meters and signs their
readings, and the producers' nodes record them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cordapp_energy.flows import IssuePaymentFlow, PublishCommunityRulesFlow
from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.meters import Meter
from cordapp_energy.simulator.ledger import OPERATOR, LedgerMarket
from deploy.localnet import Localnet
from dlt.cli.endpoints import resolve_node
from dlt.crypto import Ed25519PrivateKey, SecureHash, load_private_key
from dlt.encoding import decode
from dlt.flows import FlowLogic
from dlt.identity import Party, X500Name
from dlt.identity.certificates import certs_from_pem
from dlt.node.certificate_store import load_node_certificates
from dlt.rpc.client import RpcClient
from networkmap.bootstrap import NetworkHome, node_slug


class NetworkShapeError(ValueError):
    """The running network has too few producers or consumers for the community."""


class MeterValidityError(ValueError):
    """The network's meters were not admitted for the days the run would simulate, so the
    contract would refuse every reading they sign."""


def network_names(prosumers: Sequence[str], consumers: Sequence[str], home: Path) -> dict[str, str]:
    """Each household's node on the network, by the localnet's naming."""
    members = {m.x500.organisation: m for m in Localnet(home).members}
    names = {}
    for prefix, households in (("Producer", prosumers), ("Consumer", consumers)):
        for number, household in enumerate(households, start=1):
            member = members.get(f"{prefix} {number}")
            if member is None:
                have = sum(1 for name in members if name.startswith(prefix))
                raise NetworkShapeError(
                    f"the network in {home} has {have} {prefix.lower()}s, the community needs "
                    f"{len(households)}; start it with `dlt localnet up --producers "
                    f"{len(prosumers)} --consumers {len(consumers)}`"
                )
            names[household] = member.name
    return names


def load_meter(home: Path, household: X500Name) -> Meter:
    """The meter the bootstrapper admitted for `household` (its device key and certificate)."""
    layout = NetworkHome(home)
    party = load_node_certificates(layout.nodes_dir / node_slug(household)).party
    directory = layout.meter_dir(household)
    cert, issuer = certs_from_pem((directory / "meter.pem").read_bytes())[:2]
    key = load_private_key((directory / "meter.key").read_bytes())
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{directory / 'meter.key'} is not an Ed25519 key")
    return Meter(party, key, cert, issuer)


def network_facts(home: Path) -> tuple[Party, SecureHash]:
    """The network's first notary and the hash of its parameters, as the bootstrapper wrote
    them (checked against the network's root), for meters to build their readings with."""
    layout = NetworkHome(home)
    parameters = layout.load_network_parameters().verify(layout.load_cert(layout.root_cert))
    return parameters.notaries[0].identity, parameters.hash


def first_metered_day(home: Path) -> date:
    """The first whole day (UTC) every producer's meter on the network is certified for:
    where a run on a freshly bootstrapped network starts unless told otherwise."""
    starts = [
        load_meter(home, member.x500).certificate.not_valid_before_utc
        for member in Localnet(home).members
        if member.role == "producer"
    ]
    if not starts:
        raise NetworkShapeError(f"the network in {home} has no producers, so no meters")
    latest = max(starts)
    midnight = datetime.combine(latest.date(), time(0), tzinfo=UTC)
    return latest.date() if latest == midnight else latest.date() + timedelta(days=1)


class NetworkMarket:
    """RPC clients to the operator, the bank and every household's node."""

    name = "local network (RPC)"

    def __init__(self, home: Path, prosumers: Sequence[str], consumers: Sequence[str]) -> None:
        self.home = home
        self.names = network_names(prosumers, consumers, home)
        self.prosumers = list(prosumers)
        members = Localnet(home).members
        self.operator = next(m.name for m in members if m.role == "market-operator")
        self.bank = next(m.name for m in members if m.role == "payment-issuer")
        self.clients: dict[str, RpcClient] = {}
        self._stack = contextlib.AsyncExitStack()
        self.market: LedgerMarket | None = None

    def check_meters(self, first: datetime, end: datetime) -> None:
        """Refuse up front a run from `first` to `end` that a meter's certificate does not
        cover: a meter attests only intervals within its certificate's validity."""
        for household in self.prosumers:
            meter = load_meter(self.home, X500Name.parse(self.names[household])).certificate
            valid_from, valid_to = meter.not_valid_before_utc, meter.not_valid_after_utc
            if first < valid_from or end > valid_to:
                earliest = (valid_from + timedelta(days=1)).date()
                raise MeterValidityError(
                    f"the meter of {self.names[household]} is valid from "
                    f"{valid_from:%Y-%m-%d %H:%M} to {valid_to:%Y-%m-%d %H:%M} UTC, but the run "
                    f"simulates {first:%Y-%m-%d} to {end:%Y-%m-%d}; pass --start "
                    f"{earliest.isoformat()} or a later day its certificate covers"
                )

    def _client(self, name: str) -> RpcClient:
        endpoint = resolve_node(self.home, name)
        assert endpoint.username is not None and endpoint.password is not None
        return RpcClient(
            endpoint.address,
            endpoint.username,
            endpoint.password,
            endpoint.ca_pem_path.read_bytes(),
            timeout=600.0,
        )

    async def open(
        self, opening_balance: int, mechanism: Mechanism, setup: bool = True
    ) -> LedgerMarket:
        """Connect; with `setup`, publish the rules and fund every household (a fresh run)."""
        for who, name in [(OPERATOR, self.operator), ("bank", self.bank), *self.names.items()]:
            self.clients[who] = await self._stack.enter_async_context(self._client(name))
        if setup:
            await self.clients[OPERATOR].run_flow(
                PublishCommunityRulesFlow.flow_name or "",
                {"payment_issuer": self.bank, "mechanism": mechanism.value},
            )
            for name in self.names.values():
                await self.clients["bank"].run_flow(
                    IssuePaymentFlow.flow_name or "",
                    {"owner": name, "amount": opening_balance, "currency": "EUR"},
                )
        notary, parameters_hash = network_facts(self.home)
        meters = {
            household: load_meter(self.home, X500Name.parse(self.names[household]))
            for household in self.prosumers
        }
        self.market = LedgerMarket(
            self._call, meters, self.names, notary, parameters_hash, parallel=8
        )
        return self.market

    async def _call(self, who: str, flow: type[FlowLogic[Any]], arguments: dict[str, Any]) -> Any:
        value = await self.clients[who].run_flow(flow.flow_name or "", arguments)
        return None if value is None else decode(value.encoded)

    async def close(self) -> None:
        await self._stack.aclose()
