"""The energy CorDapp's flows on a MockNetwork: every vault ends as the trade says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cordapp_energy.flows import (
    CancelOrderFlow,
    ClearMarketFlow,
    Mechanism,
    PayFlow,
    PlaceBidFlow,
    PlaceOfferFlow,
    RepeatedPayFlow,
    RequestAndPayFlow,
    RequestEnergyFlow,
    TransferEnergyFlow,
)
from cordapp_energy.simulator.market import CURRENCY, balance, holdings, open_market
from cordapp_energy.states import EnergyState, EnergyType
from cordapp_energy.units import energy_cost
from dlt.flows import FlowException
from dlt.ledger import StateRef

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path, ["Producer A", "Producer B"], ["Consumer A", "Consumer B"], opening_balance=10_000
    )
    yield market
    await market.stop()


async def energy_of(node):
    return await holdings(node, EnergyState, "quantity_wh")


async def request(producer, quantity, price=12):
    return await producer.run(
        RequestEnergyFlow(
            quantity_wh=quantity,
            energy_type=EnergyType.SOLAR,
            window_start=NOON,
            price_per_kwh=price,
        )
    )


async def test_a_producer_requests_energy_without_a_notary(market):
    producer = market.producers[0]

    stx = await request(producer, 2_000)

    assert await energy_of(producer) == 2_000
    assert not any(sig.by == market.notary.party.owning_key for sig in stx.sigs)


async def test_energy_issued_outside_the_price_bounds_is_refused(market):
    with pytest.raises(Exception, match="outside the market rules' bounds"):
        await request(market.producers[0], 2_000, price=90)


async def test_a_transfer_moves_the_whole_state_to_the_new_owner(market):
    producer, consumer = market.producers[0], market.consumers[0]
    issued = await request(producer, 1_500)

    await producer.run(
        TransferEnergyFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=consumer.name)
    )
    await market.network.settle()

    assert await energy_of(producer) == 0
    assert await energy_of(consumer) == 1_500


async def test_repeated_pay_transfers_fractions_until_all_is_given(market):
    producer, consumer = market.producers[0], market.consumers[0]
    issued = await request(producer, 1_000)

    tx_ids = await producer.run(
        RepeatedPayFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=consumer.name, parts=4)
    )
    await market.network.settle()

    assert len(tx_ids) == 4
    assert await energy_of(producer) == 0
    assert await energy_of(consumer) == 1_000


async def test_pay_conserves_money(market):
    a, b = market.consumers

    await a.run(PayFlow(recipient=b.name, amount=2_500, currency=CURRENCY))
    await market.network.settle()

    assert await balance(a) == 7_500
    assert await balance(b) == 12_500


async def test_paying_more_than_one_holds_is_refused_clearly(market):
    a, b = market.consumers

    with pytest.raises(FlowException, match="does not have enough balance"):
        await a.run(PayFlow(recipient=b.name, amount=50_000, currency=CURRENCY))


async def test_request_and_pay_moves_energy_and_money_in_one_transaction(market):
    producer, consumer = market.producers[0], market.consumers[0]
    cost = energy_cost(3_000, 15)

    stx = await consumer.run(
        RequestAndPayFlow(
            producer=producer.name,
            quantity_wh=3_000,
            energy_type=EnergyType.SOLAR,
            window_start=NOON,
            price_per_kwh=15,
        )
    )
    await market.network.settle()

    assert await energy_of(consumer) == 3_000
    assert await balance(consumer) == 10_000 - cost
    assert await balance(producer) == cost
    signers = {sig.by for sig in stx.sigs}
    assert {
        producer.party.owning_key,
        consumer.party.owning_key,
        market.notary.party.owning_key,
    } <= signers


async def test_an_offer_without_the_energy_behind_it_is_refused(market):
    with pytest.raises(FlowException, match="not enough energy"):
        await market.producers[0].run(
            PlaceOfferFlow(
                window_start=NOON,
                max_quantity_wh=1_000,
                limit_price_per_kwh=10,
                energy_type=EnergyType.SOLAR,
            )
        )


async def test_a_bid_from_a_consumer_without_balance_is_refused(market):
    producer = market.producers[1]

    with pytest.raises(FlowException, match="does not have enough balance"):
        await producer.run(
            PlaceBidFlow(
                window_start=NOON,
                max_quantity_wh=1_000,
                limit_price_per_kwh=20,
                energy_type=EnergyType.SOLAR,
            )
        )


async def test_every_order_gets_a_notarised_receipt(market):
    receipt = await market.consumers[0].run(
        PlaceBidFlow(
            window_start=NOON,
            max_quantity_wh=1_000,
            limit_price_per_kwh=20,
            energy_type=EnergyType.SOLAR,
        )
    )

    assert market.notary.party.owning_key in {sig.by for sig in receipt.sigs}
    assert receipt.tx.time_window is not None


async def test_clearing_settles_every_match_by_delivery_versus_payment(market):
    (pa, pb), (ca, cb) = market.producers, market.consumers
    await request(pa, 2_000, price=8)
    await request(pb, 1_000, price=12)
    for producer, quantity, limit in ((pa, 2_000, 8), (pb, 1_000, 12)):
        await producer.run(
            PlaceOfferFlow(
                window_start=NOON,
                max_quantity_wh=quantity,
                limit_price_per_kwh=limit,
                energy_type=EnergyType.SOLAR,
            )
        )
    for consumer, quantity, limit in ((ca, 1_500, 20), (cb, 1_000, 10)):
        await consumer.run(
            PlaceBidFlow(
                window_start=NOON,
                max_quantity_wh=quantity,
                limit_price_per_kwh=limit,
                energy_type=EnergyType.SOLAR,
            )
        )
    await market.network.settle()

    report = await market.operator.run(ClearMarketFlow(window_start=NOON))
    await market.network.settle()

    # Producer A's 2,000 Wh at 8 fill Consumer A's 1,500 Wh and 500 of Consumer B's bid at 10;
    # Producer B asks 12, above what Consumer B will pay, so its energy does not trade.
    assert report.cleared_wh == 2_000
    assert report.clearing_price is not None and 8 <= report.clearing_price <= 10
    assert all(s.tx_id is not None for s in report.settlements), report.settlements
    assert report.settled_wh == 2_000
    price = report.clearing_price
    assert await energy_of(ca) == 1_500
    assert await energy_of(cb) == 500
    assert await energy_of(pa) == 0
    assert await energy_of(pb) == 1_000
    paid = await balance(pa) + await balance(pb)
    spent = (10_000 - await balance(ca)) + (10_000 - await balance(cb))
    assert paid == spent
    assert paid == sum(energy_cost(s.quantity_wh, price) for s in report.settlements)


async def test_buyers_of_one_sellers_single_lot_all_settle_at_once(market):
    """The buyers settle concurrently; each waits for the change of the one before rather
    than finding the seller's only energy state locked and failing."""
    (pa, _), (ca, cb) = market.producers, market.consumers
    await request(pa, 3_000, price=8)
    await pa.run(
        PlaceOfferFlow(
            window_start=NOON,
            max_quantity_wh=3_000,
            limit_price_per_kwh=8,
            energy_type=EnergyType.SOLAR,
        )
    )
    for consumer, quantity in ((ca, 1_000), (cb, 2_000)):
        await consumer.run(
            PlaceBidFlow(
                window_start=NOON,
                max_quantity_wh=quantity,
                limit_price_per_kwh=20,
                energy_type=EnergyType.SOLAR,
            )
        )
    await market.network.settle()

    report = await market.operator.run(ClearMarketFlow(window_start=NOON))
    await market.network.settle()

    assert [s.error for s in report.settlements] == [None, None]
    assert report.settled_wh == 3_000
    assert (await energy_of(ca), await energy_of(cb), await energy_of(pa)) == (1_000, 2_000, 0)


async def test_a_seller_that_cannot_deliver_leaves_the_buyer_unharmed(market):
    (pa, _), (ca, _) = market.producers, market.consumers
    issued = await request(pa, 1_000, price=8)
    await pa.run(
        PlaceOfferFlow(
            window_start=NOON,
            max_quantity_wh=1_000,
            limit_price_per_kwh=8,
            energy_type=EnergyType.SOLAR,
        )
    )
    await ca.run(
        PlaceBidFlow(
            window_start=NOON,
            max_quantity_wh=1_000,
            limit_price_per_kwh=20,
            energy_type=EnergyType.SOLAR,
        )
    )
    await pa.run(
        TransferEnergyFlow(
            ref=StateRef(txhash=issued.id, index=0), new_owner=market.consumers[1].name
        )
    )
    await market.network.settle()

    report = await market.operator.run(ClearMarketFlow(window_start=NOON))
    await market.network.settle()

    assert report.cleared_wh == 1_000
    assert [s.error is not None for s in report.settlements] == [True]
    assert "not enough energy" in report.settlements[0].error
    assert await balance(ca) == 10_000
    assert await energy_of(ca) == 0
    assert await balance(pa) == 0


async def test_a_cancelled_bid_is_gone_from_the_operators_book_and_does_not_trade(market):
    (producer, _), (consumer, _) = market.producers, market.consumers
    receipt = await consumer.run(
        PlaceBidFlow(
            window_start=NOON,
            max_quantity_wh=1_000,
            limit_price_per_kwh=20,
            energy_type=EnergyType.SOLAR,
        )
    )
    order_id = receipt.tx.outputs[0].data.linear_id.id
    await request(producer, 1_000, price=8)
    await producer.run(
        PlaceOfferFlow(
            window_start=NOON,
            max_quantity_wh=1_000,
            limit_price_per_kwh=8,
            energy_type=EnergyType.SOLAR,
        )
    )

    await consumer.run(CancelOrderFlow(order_id=order_id))
    await market.network.settle()
    report = await market.operator.run(ClearMarketFlow(window_start=NOON))

    assert report.bids == 0
    assert report.cleared_wh == 0
    assert await energy_of(consumer) == 0


async def test_cancelling_someone_elses_or_an_unknown_order_is_refused(market):
    with pytest.raises(FlowException, match="no open order"):
        await market.consumers[0].run(CancelOrderFlow(order_id="0" * 32))


async def test_the_reference_mechanism_prices_each_match_within_its_limits(market):
    (pa, pb), (ca, cb) = market.producers, market.consumers
    for producer, ask in ((pa, 8), (pb, 10)):
        await request(producer, 1_000, price=ask)
        await producer.run(
            PlaceOfferFlow(
                window_start=NOON,
                max_quantity_wh=1_000,
                limit_price_per_kwh=ask,
                energy_type=EnergyType.SOLAR,
            )
        )
    for consumer, limit in ((ca, 30), (cb, 20)):
        await consumer.run(
            PlaceBidFlow(
                window_start=NOON,
                max_quantity_wh=1_000,
                limit_price_per_kwh=limit,
                energy_type=EnergyType.SOLAR,
            )
        )
    await market.network.settle()

    report = await market.operator.run(
        ClearMarketFlow(window_start=NOON, mechanism=Mechanism.REFERENCE)
    )
    await market.network.settle()

    assert report.cleared_wh == 2_000
    assert report.clearing_price is None
    limits = {str(ca.name): 30, str(cb.name): 20, str(pa.name): 8, str(pb.name): 10}
    for settlement in report.settlements:
        assert settlement.tx_id is not None, settlement.error
        assert (
            limits[str(settlement.seller)]
            <= settlement.price_per_kwh
            <= limits[str(settlement.buyer)]
        )
    assert await energy_of(ca) + await energy_of(cb) == 2_000
