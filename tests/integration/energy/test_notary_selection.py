"""Several notaries: random selection, moving states between notaries, and orders that are
resubmitted through another notary when theirs delays or discards them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from cordapp_energy.flows import (
    ClearMarketFlow,
    PlaceBidFlow,
    PlaceOfferFlow,
    RequestEnergyFlow,
    TransferEnergyFlow,
)
from cordapp_energy.simulator.market import balance, holdings, open_market
from cordapp_energy.states import BidState, EnergyState, EnergyType
from dlt.flows import engine
from dlt.flows.library import ChangeNotaryFlow, NotaryClientSettings
from dlt.ledger import StateRef
from dlt.messaging.in_memory import Fault
from dlt.vault import VaultQueryCriteria

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FAST = NotaryClientSettings(first_reply_timeout=0.2, deadline=1.0, max_backoff=0.3)


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path,
        ["Producer A"],
        ["Consumer A", "Consumer B"],
        opening_balance=50_000,
        notaries=3,
        notary_client=FAST,
    )
    yield market
    await market.stop()


def bid(quantity=500, limit=20):
    return PlaceBidFlow(
        window_start=NOON,
        max_quantity_wh=quantity,
        limit_price_per_kwh=limit,
        energy_type=EnergyType.SOLAR,
    )


async def test_new_orders_are_spread_over_the_notaries_at_random(market):
    consumer = market.consumers[0]

    receipts = [await consumer.run(bid()) for _ in range(12)]

    assert len({receipt.tx.notary for receipt in receipts}) > 1


async def test_a_bid_whose_notary_discards_it_is_resubmitted_and_none_is_lost(market):
    consumer = market.consumers[0]
    silenced = market.notaries[0]
    market.network.add_fault(Fault(matches=lambda s, m: m.recipient == silenced.name, drop=True))

    resubmitted, placed = 0, 0
    while not resubmitted:
        assert placed < 30, "no bid was ever sent to the silenced notary first"
        handle = await consumer.start_flow(bid())
        receipt = await handle.result()
        placed += 1
        resubmitted += any("resubmitting" in step for step in handle.progress)
        assert receipt.tx.notary != silenced.party
        assert silenced.party.owning_key not in {sig.by for sig in receipt.sigs}

    await market.network.settle()
    orders = await market.operator.services.vault.query(VaultQueryCriteria(state_types=(BidState,)))
    assert len(orders.states) == placed


async def test_states_move_to_another_notary_with_every_participant_signing(market):
    producer, consumer = market.producers[0], market.consumers[0]
    issued = await producer.run(
        RequestEnergyFlow(
            quantity_wh=700, energy_type=EnergyType.SOLAR, window_start=NOON, price_per_kwh=9
        )
    )
    moved = await producer.run(
        TransferEnergyFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=consumer.name)
    )
    await market.network.settle()
    old = moved.tx.notary
    target = next(n.party for n in market.notaries if n.party != old)

    (new_ref,) = await consumer.run(
        ChangeNotaryFlow(refs=(StateRef(txhash=moved.id, index=0),), new_notary=target.name)
    )
    await market.network.settle()

    for node in (producer, consumer):
        page = await node.services.vault.query(VaultQueryCriteria(refs=(new_ref,)))
        assert page.states[0].state.notary == target
        assert page.states[0].state.data.quantity_wh == 700


async def test_an_auction_across_notaries_settles_and_conserves_energy_and_money(market):
    producer = market.producers[0]
    a, b = market.consumers
    await producer.run(
        RequestEnergyFlow(
            quantity_wh=3_000, energy_type=EnergyType.SOLAR, window_start=NOON, price_per_kwh=8
        )
    )
    await producer.run(
        PlaceOfferFlow(
            window_start=NOON,
            max_quantity_wh=3_000,
            limit_price_per_kwh=8,
            energy_type=EnergyType.SOLAR,
        )
    )
    for consumer in (a, b):
        for _ in range(3):
            await consumer.run(bid(quantity=400, limit=15))
    await market.network.settle()

    report = await market.operator.run(ClearMarketFlow(window_start=NOON), timeout=60)
    await market.network.settle()

    assert report.cleared_wh == 2_400
    assert all(s.tx_id for s in report.settlements), report.settlements
    nodes = [producer, a, b]
    assert sum([await holdings(n, EnergyState, "quantity_wh") for n in nodes]) == 3_000
    assert sum([await balance(n) for n in nodes]) == 100_000


async def test_a_bid_whose_only_notary_is_silent_for_a_while_is_placed_when_it_answers(
    tmp_path, monkeypatch
):
    # The notary holds the ENDs of the sessions whose requests it never saw until they expire.
    monkeypatch.setattr(engine, "EARLY_MESSAGE_TTL", 0.5)
    market = await open_market(
        tmp_path, ["Producer A"], ["Consumer A"], opening_balance=1_000, notary_client=FAST
    )
    try:
        consumer, notary = market.consumers[0], market.notaries[0]
        market.network.add_fault(Fault(matches=lambda s, m: m.recipient == notary.name, drop=True))
        handle = await consumer.start_flow(bid())
        for _ in range(400):
            if sum("resubmitting" in step for step in handle.progress) >= 2:
                break
            await asyncio.sleep(0.05)
        assert sum("resubmitting" in step for step in handle.progress) >= 2
        market.network.messaging.clear_faults()

        receipt = await handle.result()

        assert receipt.tx.notary == notary.party
        await market.network.settle()
        page = await market.operator.services.vault.query(
            VaultQueryCriteria(state_types=(BidState,))
        )
        assert len(page.states) == 1
    finally:
        await market.stop()
