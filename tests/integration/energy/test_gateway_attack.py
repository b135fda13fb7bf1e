"""The reference paper's attack on a small market (MockNetwork, seconds): a gateway discards
everything sent to one notary. With resubmission through another notary no order is lost and
the window clears as without the attack; without it, the orders drawn to that notary are lost
and the window clears only what survived. The same runs on a real network, by both
adversaries, are `attacks/gateway` (tests/attacks)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from attacks.gateway.market import BOOK
from cordapp_energy.flows import ClearMarketFlow, PlaceBidFlow, PlaceOfferFlow, RequestEnergyFlow
from cordapp_energy.matching import Order, Side, clear_uniform
from cordapp_energy.simulator.market import open_market
from cordapp_energy.states import EnergyType
from dlt.flows.library import NotaryClientSettings
from dlt.messaging.in_memory import Fault

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FAST = NotaryClientSettings(first_reply_timeout=0.2, deadline=1.0, max_backoff=0.3)


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path,
        ["Producer 1", "Producer 2"],
        ["Consumer 1", "Consumer 2", "Consumer 3"],
        opening_balance=1_000_000,
        notaries=2,
        notary_client=FAST,
    )
    yield market
    await market.stop()


def _node(market, party: str):
    kind, number = party.split("-")
    return (market.producers if kind == "producer" else market.consumers)[int(number) - 1]


async def _place_book(market, resubmit_after: float | None) -> list[bool]:
    """Issue the producers' energy, then place the whole book at once; which orders placed."""
    for spec in BOOK:
        if spec.side == "offer":
            await _node(market, spec.party).run(
                RequestEnergyFlow(
                    quantity_wh=spec.quantity_wh,
                    energy_type=EnergyType.SOLAR,
                    window_start=NOON,
                    price_per_kwh=spec.limit,
                )
            )
    silenced = market.notaries[0].name
    market.network.add_fault(Fault(matches=lambda s, m: m.recipient == silenced, drop=True))

    async def place(spec) -> bool:
        kind = PlaceBidFlow if spec.side == "bid" else PlaceOfferFlow
        flow = kind(
            window_start=NOON,
            max_quantity_wh=spec.quantity_wh,
            limit_price_per_kwh=spec.limit,
            energy_type=EnergyType.SOLAR,
            resubmit_after=resubmit_after,
        )
        try:
            await _node(market, spec.party).run(flow)
        except Exception:
            return False
        return True

    placed = await asyncio.gather(*(place(spec) for spec in BOOK))
    market.network.messaging.clear_faults()  # gate closure: the gateway lets clearing through
    await market.network.settle()
    return list(placed)


def _expected(placed: list[bool]):
    orders = [
        Order(
            order_id=str(seq),
            side=Side.BUY if spec.side == "bid" else Side.SELL,
            quantity_wh=spec.quantity_wh,
            limit_price=spec.limit,
            submitted_seq=seq,
        )
        for seq, (spec, ok) in enumerate(zip(BOOK, placed, strict=True))
        if ok
    ]
    return clear_uniform(
        [o for o in orders if o.side is Side.BUY], [o for o in orders if o.side is Side.SELL]
    )


async def test_with_resubmission_no_order_is_lost_and_the_equilibrium_is_unchanged(market):
    placed = await _place_book(market, resubmit_after=1.0)

    report = await market.operator.run(ClearMarketFlow(window_start=NOON), timeout=60)

    assert all(placed)
    assert (report.bids, report.offers) == (3, 2)
    assert (report.clearing_price, report.cleared_wh) == (10, 6000)
    assert report.settled_wh == 6000


async def test_without_resubmission_the_orders_sent_to_the_silenced_notary_are_lost(market):
    placed = await _place_book(market, resubmit_after=None)

    report = await market.operator.run(ClearMarketFlow(window_start=NOON), timeout=60)

    expected = _expected(placed)
    assert (report.bids + report.offers) == sum(placed)
    assert (report.clearing_price, report.cleared_wh) == (
        expected.clearing_price,
        expected.cleared_quantity_wh,
    )
