"""An energy market on a MockNetwork: notary, market operator, payment issuer and households.

Used by the simulator, `make demo` and the CorDapp's integration tests, so all three trade
under the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cordapp_energy.flows import IssuePaymentFlow, PublishMarketRulesFlow, RecordMeterReadingFlow
from cordapp_energy.flows.rules import community_rules
from cordapp_energy.market_rules import MARKET_RULES_SIGNERS
from cordapp_energy.meters import METER_CA_SIGNERS, Meter
from cordapp_energy.states import DeliveryWindow, PaymentState
from cordapp_energy.units import Currency
from dlt.flows.library import NotaryClientSettings
from dlt.identity import DevCertificateAuthority
from dlt.ledger import StateRef
from dlt.testing.mock_network import MockNetwork, MockNode
from dlt.vault import CustomColumnCriteria, Operator, PageSpecification, VaultQueryCriteria

CURRENCY = Currency("EUR")
"""Prices in euro cents per kWh, amounts in cents."""

METERS_ADMITTED = datetime(2024, 1, 1, tzinfo=UTC)
"""When this market's doorman admitted its meters: before any interval the simulator and the
tests replay, since a meter attests only intervals within its certificate's validity."""


def _name(label: str) -> str:
    organisation = re.sub(r"[^A-Za-z0-9 ]", "", label)
    return f"O={organisation}, L=Leeds, C=GB"


@dataclass
class Market:
    network: MockNetwork
    notary: MockNode
    operator: MockNode
    bank: MockNode
    notaries: list[MockNode] = field(default_factory=list)
    producers: list[MockNode] = field(default_factory=list)
    consumers: list[MockNode] = field(default_factory=list)
    meters: dict[str, Meter] = field(default_factory=dict)
    """Each producer's meter by node name, when the market requires meter readings."""

    @property
    def households(self) -> list[MockNode]:
        return [*self.producers, *self.consumers]

    async def fund(self, node: MockNode, amount: int) -> None:
        """The bank issues `amount` cents to `node`."""
        await self.bank.run(IssuePaymentFlow(owner=node.name, amount=amount, currency=CURRENCY))

    async def record_reading(
        self, node: MockNode, window: DeliveryWindow, produced_wh: int, consumed_wh: int
    ) -> StateRef:
        """`node`'s meter signs its reading for `window` and the node records it."""
        stx = self.meters[str(node.name)].sign_reading(
            window,
            produced_wh,
            consumed_wh,
            notary=self.notary.party,
            parameters_hash=self.network.parameters.hash,
        )
        return await node.run(RecordMeterReadingFlow.of(stx), timeout=120)

    async def stop(self) -> None:
        await self.network.stop()


async def open_market(
    base_dir: Path,
    producers: list[str],
    consumers: list[str],
    *,
    opening_balance: int = 0,
    database_url: Callable[[MockNode], str] | None = None,
    notaries: int = 1,
    notary_client: NotaryClientSettings | None = None,
    meters: bool = False,
) -> Market:
    """Start the nodes, publish the rules to every household, fund the consumers. With
    `meters`, a doorman admits a meter per producer and the rules require meter readings."""
    network = MockNetwork(
        base_dir,
        cordapps=["cordapp_energy"],
        database_url=database_url,
        notary_client=notary_client,
    )
    notary_nodes = [
        network.create_notary(f"O=Community Notary {number}, L=Leeds, C=GB")
        for number in range(1, notaries + 1)
    ]
    market = Market(
        network=network,
        notary=notary_nodes[0],
        operator=network.create_node("O=Community Market Operator, L=Leeds, C=GB"),
        bank=network.create_node("O=Community Bank, L=Leeds, C=GB"),
    )
    market.notaries = notary_nodes
    network.trust_signer(MARKET_RULES_SIGNERS, market.operator)
    market.producers = [network.create_node(_name(label)) for label in producers]
    market.consumers = [network.create_node(_name(label)) for label in consumers]
    if meters:
        doorman = DevCertificateAuthority.create(now=METERS_ADMITTED)
        network.trust_key(METER_CA_SIGNERS, doorman.doorman_key.public_key)
        for producer in market.producers:
            cert, key = doorman.enrol_meter(producer.name, now=METERS_ADMITTED)
            market.meters[str(producer.name)] = Meter(
                producer.party, key, cert, doorman.doorman_cert
            )
    await network.start()
    rules = community_rules(market.operator.party, market.bank.party, require_meter_readings=meters)
    await market.operator.run(PublishMarketRulesFlow(rules=rules))
    if opening_balance:
        for consumer in market.consumers:
            await market.fund(consumer, opening_balance)
    await network.settle()
    return market


async def holdings(node: MockNode, state_type: type, column: str) -> int:
    """What `node` owns of a fungible state type, summed over `column`."""
    criteria = VaultQueryCriteria(state_types=(state_type,)) & CustomColumnCriteria(
        state_type, "owner_key", Operator.EQ, str(node.party.owning_key.fingerprint)
    )
    total, page_number = 0, 1
    while True:
        page = await node.services.vault.query(criteria, PageSpecification(page_number, 1000))
        total += sum(getattr(sar.state.data, column) for sar in page.states)
        if not page.has_next:
            return total
        page_number += 1


async def balance(node: MockNode) -> int:
    return await holdings(node, PaymentState, "amount")
