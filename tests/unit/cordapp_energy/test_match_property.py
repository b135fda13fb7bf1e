"""Property: the order contract accepts exactly the clearings an independent checker accepts.

Random order books and random candidate fills (some priced outside a limit or the band, some
trading an order beyond its alpha) are built into Match transactions with correct residuals;
whatever the contract accepts never trades above a bid's limit or below an offer's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cordapp_energy import Fill, Match, OrderState, PriceViolation, QuantityViolation

from .support import (
    CONSUMER,
    NEIGHBOUR,
    OPERATOR,
    PRODUCER,
    RULES,
    bid,
    builder,
    commit,
    new_ledger,
    offer,
    place,
    rejection,
)

BAND = RULES.band(bid().energy_type)


@dataclass(frozen=True)
class Book:
    bids: list[tuple[int, int]]  # (alpha Wh, limit price)
    offers: list[tuple[int, int]]
    fills: list[tuple[int, int, int, int]]  # (bid index, offer index, Wh, price)


@st.composite
def books(draw: st.DrawFn) -> Book:
    order = st.tuples(st.integers(100, 3_000), st.integers(BAND.min_price_per_kwh, 40))
    bids = draw(st.lists(order, min_size=1, max_size=3))
    offers = draw(st.lists(order, min_size=1, max_size=3))
    candidate = st.tuples(
        st.integers(0, len(bids) - 1),
        st.integers(0, len(offers) - 1),
        st.integers(1, 2_000),
        st.integers(BAND.min_price_per_kwh - 2, BAND.max_price_per_kwh + 2),
    )
    return Book(bids, offers, draw(st.lists(candidate, max_size=5)))


def consistent(book: Book) -> bool:
    """The clearing rules, restated independently of the contract."""
    traded_bids: Counter[int] = Counter()
    traded_offers: Counter[int] = Counter()
    for b, o, quantity, price in book.fills:
        if not book.offers[o][1] <= price <= book.bids[b][1]:
            return False
        if not BAND.min_price_per_kwh <= price <= BAND.max_price_per_kwh:
            return False
        traded_bids[b] += quantity
        traded_offers[o] += quantity
    return all(traded_bids[i] <= alpha for i, (alpha, _) in enumerate(book.bids)) and all(
        traded_offers[i] <= alpha for i, (alpha, _) in enumerate(book.offers)
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_contract_accepts_exactly_the_consistent_clearings(book):
    ledger = new_ledger()
    owners = [CONSUMER, NEIGHBOUR, PRODUCER]
    bids = [place(ledger, bid(a, p, owner=owners[i % 3])) for i, (a, p) in enumerate(book.bids)]
    offers = [
        place(ledger, offer(a, p, owner=owners[i % 3])) for i, (a, p) in enumerate(book.offers)
    ]
    fills = [
        Fill(
            bid_id=bids[b].state.data.linear_id,
            offer_id=offers[o].state.data.linear_id,
            quantity_wh=quantity,
            price_per_kwh=price,
        )
        for b, o, quantity, price in book.fills
    ]
    traded: Counter[str] = Counter()
    for f in fills:
        traded[f.bid_id.id] += f.quantity_wh
        traded[f.offer_id.id] += f.quantity_wh
    tx = builder()
    for sar in [*bids, *offers]:
        order: OrderState = sar.state.data
        tx.add_input_state(sar)
        left = order.max_quantity_wh - traded[order.linear_id.id]
        if left > 0:
            tx.add_output_state(order.with_max_quantity(left))
    tx.add_command(Match(fills=tuple(fills)), OPERATOR.public_key)

    event("accepted" if consistent(book) else "rejected")
    if consistent(book):
        commit(ledger, tx)
        for b, o, _, price in book.fills:
            assert book.offers[o][1] <= price <= book.bids[b][1]
    else:
        assert isinstance(rejection(ledger, tx).__cause__, PriceViolation | QuantityViolation)
