"""What the energy market guarantees whatever happens: conservation, no double spends, and
delivery versus payment that moves both legs or neither, even when a party crashes."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordapp_energy.attacks import RespendFlow
from cordapp_energy.flows import (
    ClearMarketFlow,
    PayFlow,
    PlaceBidFlow,
    PlaceOfferFlow,
    RequestAndPayFlow,
    RequestEnergyFlow,
    TransferEnergyFlow,
)
from cordapp_energy.simulator.market import CURRENCY, balance, holdings, open_market
from cordapp_energy.states import EnergyState, EnergyType
from cordapp_energy.units import energy_cost
from dlt.flows import FlowException
from dlt.flows.library import NotaryException
from dlt.ledger import StateRef
from fixtures.crashes import run_through_crash

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BALANCE = 20_000

trade = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 3_000)),
    st.tuples(st.just("request-and-pay"), st.integers(0, 1), st.integers(100, 3_000)),
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(100, 3_000)),
    st.tuples(
        st.just("auction"),
        st.lists(st.tuples(st.integers(100, 2_000), st.integers(5, 40)), min_size=1, max_size=2),
        st.lists(st.tuples(st.integers(100, 2_000), st.integers(5, 40)), min_size=1, max_size=2),
    ),
)


async def energy_of(node):
    return await holdings(node, EnergyState, "quantity_wh")


async def run_trades(base: Path, trades):
    market = await open_market(
        base, ["Producer A", "Producer B"], ["Consumer A", "Consumer B"], opening_balance=BALANCE
    )
    issued_energy = 0
    windows = iter(NOON + timedelta(minutes=15 * i) for i in range(100))
    try:
        for trade_spec in trades:
            kind = trade_spec[0]
            if kind == "pay":
                _, who, amount = trade_spec
                payer, payee = market.consumers[who], market.consumers[1 - who]
                with contextlib.suppress(FlowException):  # paying more than one holds is refused
                    await payer.run(PayFlow(recipient=payee.name, amount=amount, currency=CURRENCY))
            elif kind == "request-and-pay":
                _, who, wh = trade_spec
                await market.consumers[who].run(
                    RequestAndPayFlow(
                        producer=market.producers[who].name,
                        quantity_wh=wh,
                        energy_type=EnergyType.SOLAR,
                        window_start=NOON,
                        price_per_kwh=10,
                    )
                )
                issued_energy += wh
            elif kind == "transfer":
                _, who, wh = trade_spec
                stx = await market.producers[who].run(
                    RequestEnergyFlow(
                        quantity_wh=wh,
                        energy_type=EnergyType.SOLAR,
                        window_start=NOON,
                        price_per_kwh=10,
                    )
                )
                issued_energy += wh
                await market.producers[who].run(
                    TransferEnergyFlow(
                        ref=StateRef(txhash=stx.id, index=0), new_owner=market.consumers[who].name
                    )
                )
            else:
                _, offers, bids = trade_spec
                window = next(windows)
                limits = {"bids": [], "offers": []}
                for producer, (wh, ask) in zip(market.producers, offers, strict=False):
                    await producer.run(
                        RequestEnergyFlow(
                            quantity_wh=wh,
                            energy_type=EnergyType.SOLAR,
                            window_start=window,
                            price_per_kwh=ask,
                        )
                    )
                    issued_energy += wh
                    await producer.run(
                        PlaceOfferFlow(
                            window_start=window,
                            max_quantity_wh=wh,
                            limit_price_per_kwh=ask,
                            energy_type=EnergyType.SOLAR,
                        )
                    )
                    limits["offers"].append((producer.name, ask))
                for consumer, (wh, price) in zip(market.consumers, bids, strict=False):
                    await consumer.run(
                        PlaceBidFlow(
                            window_start=window,
                            max_quantity_wh=wh,
                            limit_price_per_kwh=price,
                            energy_type=EnergyType.SOLAR,
                        )
                    )
                    limits["bids"].append((consumer.name, price))
                await market.network.settle()
                report = await market.operator.run(ClearMarketFlow(window_start=window))
                asks = dict(limits["offers"])
                bid_limits = dict(limits["bids"])
                for settlement in report.settlements:
                    assert settlement.price_per_kwh <= bid_limits[settlement.buyer], "above the bid"
                    assert settlement.price_per_kwh >= asks[settlement.seller], "below the offer"
        await market.network.settle(timeout=30)
        nodes = [market.operator, market.bank, *market.households]
        money = sum([await balance(n) for n in nodes])
        energy = sum([await energy_of(n) for n in nodes])
        return money, energy, issued_energy, BALANCE * len(market.consumers)
    finally:
        await market.stop()


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(trades=st.lists(trade, min_size=1, max_size=4))
def test_energy_and_money_are_conserved_across_all_vaults_for_any_trades(trades):
    with tempfile.TemporaryDirectory() as base:
        money, energy, issued_energy, issued_money = asyncio.run(run_trades(Path(base), trades))
    assert money == issued_money
    assert energy == issued_energy


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path, ["Producer A"], ["Consumer A", "Consumer B"], opening_balance=BALANCE
    )
    yield market
    await market.stop()


async def test_a_double_spend_of_energy_is_rejected_by_the_notary(market):
    producer = market.producers[0]
    a, b = market.consumers
    issued = await producer.run(
        RequestEnergyFlow(
            quantity_wh=1_000, energy_type=EnergyType.SOLAR, window_start=NOON, price_per_kwh=10
        )
    )
    ref = StateRef(txhash=issued.id, index=0)
    first = await producer.run(TransferEnergyFlow(ref=ref, new_owner=a.name))
    await market.network.settle()

    with pytest.raises(NotaryException, match=str(first.id)):
        await producer.run(RespendFlow(ref=ref, new_owner=b.name))

    await market.network.settle()
    assert await energy_of(a) == 1_000
    assert await energy_of(b) == 0


async def test_a_double_spend_of_money_is_rejected_by_the_notary(market):
    a, b = market.consumers
    pay = await a.run(PayFlow(recipient=b.name, amount=BALANCE, currency=CURRENCY))
    await market.network.settle()
    spent = next(ref for ref in pay.tx.inputs)

    with pytest.raises(NotaryException, match="double spend"):
        await a.run(RespendFlow(ref=spent, new_owner=market.producers[0].name))

    await market.network.settle()
    assert await balance(b) == 2 * BALANCE
    assert await balance(market.producers[0]) == 0


MAX_STEPS = 60


async def request_and_pay_with_crash(base, victim, step, phase):
    market = await open_market(base, ["Producer A"], ["Consumer A"], opening_balance=BALANCE)
    producer, consumer = market.producers[0], market.consumers[0]
    node = {"producer": producer, "consumer": consumer, "notary": market.notary}[victim]
    try:
        flow = RequestAndPayFlow(
            producer=producer.name,
            quantity_wh=2_000,
            energy_type=EnergyType.SOLAR,
            window_start=NOON,
            price_per_kwh=15,
        )
        _, reached = await run_through_crash(market.network, consumer, flow, node, step, phase)
        cost = energy_cost(2_000, 15)
        where = f"{victim} crashed {phase} step {step}"
        both = (await energy_of(consumer), await balance(consumer), await balance(producer))
        assert both == (2_000, BALANCE - cost, cost), where
        return reached
    finally:
        await market.stop()


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("victim", ["consumer", "producer", "notary"])
async def test_request_and_pay_moves_both_legs_whatever_step_a_party_crashes_at(
    tmp_path, victim, phase
):
    step = 0
    while await request_and_pay_with_crash(tmp_path / str(step), victim, step, phase):
        step += 1
        assert step < MAX_STEPS
    assert step >= 2
