"""No single crashed process stalls the market: rules reach whoever answers, the notary client
learns which replicas answer, and orders leave a silent notary within seconds."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from cordapp_energy.contracts.orders import PlaceBid
from cordapp_energy.flows import ClearMarketFlow, PlaceBidFlow, PublishMarketRulesFlow
from cordapp_energy.flows.common import RecordFinalisedFlow, finalise
from cordapp_energy.flows.orders import RESUBMIT_AFTER
from cordapp_energy.flows.rules import community_rules, current_rules, rules_for
from cordapp_energy.market_rules import MARKET_RULES_SIGNERS
from cordapp_energy.simulator.market import open_market
from cordapp_energy.states import BidState, EnergyType
from dlt.flows import FlowLogic, flow, responder
from dlt.flows.library import NotaryClientSettings, choose_notary
from dlt.ledger import SignedTransaction, TimeWindow, TransactionBuilder
from dlt.messaging.in_memory import Fault
from dlt.testing.mock_network import MockNetwork
from dlt.vault import (
    CustomColumnCriteria,
    Operator,
    PageSpecification,
    VaultQueryCriteria,
)
from sample_cordapp import IssueTokensFlow, MoveTokensFlow

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@flow("test.PlaceTwin", initiating=True)
class _PlaceTwinFlow(FlowLogic[SignedTransaction]):
    """What a dishonest owner can do: a second notarised receipt of its own open order,
    through another notary."""

    order_id: str

    async def call(self) -> SignedTransaction:
        criteria = VaultQueryCriteria(state_types=(BidState,)) & CustomColumnCriteria(
            BidState, "linear_id", Operator.EQ, self.order_id
        )
        vault = self.services.vault
        [placed] = await self.durable(
            "test.find", lambda s: vault.query_in(s, criteria, PageSpecification(1, 1)).states
        )
        installed = await rules_for(self)
        builder = TransactionBuilder(notary=choose_notary(self, exclude=[placed.state.notary]))
        builder.add_output_state(placed.state.data)
        builder.add_command(PlaceBid(), self.our_identity.owning_key)
        builder.add_attachment(installed.attachment_id)
        builder.set_time_window(TimeWindow.with_tolerance(self.now(), timedelta(seconds=60)))
        return await finalise(self, self.sign_initial(builder))


@responder(_PlaceTwinFlow)
class _PlaceTwinResponder(RecordFinalisedFlow):
    pass


PATIENT = NotaryClientSettings(probe_after=600.0, min_wave_timeout=5.0)
"""Suspected replicas and services are not probed again while a test runs, and a loaded
machine's slow answer from a healthy quorum is not taken for silence."""


def bid(quantity=500, limit=20):
    return PlaceBidFlow(
        window_start=NOON,
        max_quantity_wh=quantity,
        limit_price_per_kwh=limit,
        energy_type=EnergyType.SOLAR,
    )


def messages_to(network: MockNetwork, node) -> int:
    return sum(1 for _, message in network.messaging.sent if message.recipient == node.name)


async def test_rules_go_to_every_party_at_once_and_the_silent_are_reported(tmp_path):
    network = MockNetwork(tmp_path, cordapps=["cordapp_energy"])
    cluster = network.create_notary_cluster(replicas=4)
    operator = network.create_node("O=Market Operator, L=London, C=GB")
    bank = network.create_node("O=Community Bank, L=London, C=GB")
    home = network.create_node("O=Consumer 1, L=York, C=GB")
    away = network.create_node("O=Consumer 2, L=York, C=GB")
    network.trust_signer(MARKET_RULES_SIGNERS, operator)
    await network.start()
    try:
        await cluster[0].stop()
        await away.stop()
        rules = community_rules(operator.party, bank.party)

        publication = await operator.run(PublishMarketRulesFlow(rules=rules, wait_seconds=1.0))

        assert set(publication.installed) == {bank.name, home.name}
        assert publication.unanswered == (away.name,)
        assert all(messages_to(network, replica) == 0 for replica in cluster)
        await away.start()
        await network.settle()
        installed = away.services.db.read_sync(current_rules)
        assert installed.attachment_id == publication.attachment_id
    finally:
        await network.stop()


async def test_after_a_replica_is_found_silent_it_is_not_asked_first_again(tmp_path):
    network = MockNetwork(tmp_path, cordapps=["sample_cordapp"], notary_client=PATIENT)
    cluster = network.create_notary_cluster(replicas=4)
    issuer = network.create_node("O=Grid Bank, L=London, C=GB")
    alice = network.create_node("O=Alice Solar, L=Leeds, C=GB")
    bob = network.create_node("O=Bob Home, L=York, C=GB")
    await network.start()
    try:
        silent = cluster[1]
        network.add_fault(Fault(matches=lambda s, m: m.recipient == silent.name, drop=True))
        retries = alice.node.metrics.notarisation_retries
        for _ in range(8):
            issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=5))
            await network.settle()
            await alice.run(MoveTokensFlow(ref=f"{issued.id}:0", new_owner=bob.name))
            if alice.services.notary_health.suspected(silent.party):
                break
        after_noticed = (retries._value.get(), messages_to(network, silent))

        for _ in range(5):
            issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=5))
            await network.settle()
            await alice.run(MoveTokensFlow(ref=f"{issued.id}:0", new_owner=bob.name))

        assert alice.services.notary_health.suspected(silent.party)
        assert retries._value.get() == after_noticed[0], "no request waited for the silent one"
        assert messages_to(network, silent) == after_noticed[1], "it was not asked again"
    finally:
        await network.stop()


async def test_a_bid_leaves_a_silent_notary_within_seconds_and_later_bids_avoid_it(tmp_path):
    market = await open_market(
        tmp_path,
        ["Producer A"],
        ["Consumer A"],
        opening_balance=50_000,
        notaries=2,
        notary_client=NotaryClientSettings(probe_after=600.0),
    )
    try:
        consumer = market.consumers[0]
        silenced = market.notaries[0]
        market.network.add_fault(
            Fault(matches=lambda s, m: m.recipient == silenced.name, drop=True)
        )
        resubmitted = None
        for _ in range(30):
            began = time.monotonic()
            handle = await consumer.start_flow(bid())
            await asyncio.wait_for(handle.result(), 60)
            if any("resubmitting" in step for step in handle.progress):
                resubmitted = time.monotonic() - began
                break
        assert resubmitted is not None, "no bid was ever drawn for the silenced notary"
        assert resubmitted < RESUBMIT_AFTER + 10, "it did not wait out the 30 s client deadline"

        later = [await consumer.start_flow(bid()) for _ in range(6)]
        receipts = [await handle.result() for handle in later]

        assert all(receipt.tx.notary == market.notaries[1].party for receipt in receipts)
        assert not any("resubmitting" in step for h in later for step in h.progress)
    finally:
        await market.stop()


async def test_two_receipts_of_one_order_are_cleared_as_one_order(tmp_path):
    market = await open_market(
        tmp_path, ["Producer A"], ["Consumer A"], opening_balance=50_000, notaries=2
    )
    try:
        consumer, operator = market.consumers[0], market.operator
        receipt = await consumer.run(bid(quantity=500))
        await market.network.settle()
        order = receipt.tx.outputs[0].data
        twin = await consumer.run(_PlaceTwinFlow(order_id=order.linear_id.id))
        await market.network.settle()
        page = await operator.services.vault.query(VaultQueryCriteria(state_types=(BidState,)))
        assert len(page.states) == 2 and twin.tx.outputs[0].data.linear_id == order.linear_id

        report = await operator.run(ClearMarketFlow(window_start=NOON))

        assert report.bids == 1
    finally:
        await market.stop()
