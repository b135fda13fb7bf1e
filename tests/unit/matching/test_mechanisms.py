"""Every mechanism conserves energy and money exactly; the uniform auction reaches the optimum."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cordapp_energy.matching import Order
from cordapp_energy.mechanisms import Mechanism, clear
from fixtures.order_books import bid, offer, order_books


def brute_force_welfare(bids: list[Order], offers: list[Order]) -> int:
    """Try every integer allocation of Wh between every bid and offer: the best gains from
    trade, Σ q·(bid limit - ask limit), in Wh·(minor unit per kWh)."""
    pairs = [(b, o) for b in bids for o in offers]
    best = 0

    def search(k: int, bid_left: dict[str, int], offer_left: dict[str, int], gains: int) -> None:
        nonlocal best
        if k == len(pairs):
            best = max(best, gains)
            return
        b, o = pairs[k]
        for q in range(min(bid_left[b.order_id], offer_left[o.order_id]) + 1):
            bid_left[b.order_id] -= q
            offer_left[o.order_id] -= q
            search(k + 1, bid_left, offer_left, gains + q * (b.limit_price - o.limit_price))
            bid_left[b.order_id] += q
            offer_left[o.order_id] += q

    search(
        0, {b.order_id: b.quantity_wh for b in bids}, {o.order_id: o.quantity_wh for o in offers}, 0
    )
    return best


@st.composite
def tiny_books(draw: st.DrawFn) -> tuple[list[Order], list[Order]]:
    """Up to three bids and three offers of at most 3 Wh: small enough to search exhaustively."""
    bids = [
        bid(f"b{i}", draw(st.integers(1, 3)), draw(st.integers(0, 9)), draw(st.integers(0, 2)))
        for i in range(draw(st.integers(0, 3)))
    ]
    offers = [
        offer(f"s{i}", draw(st.integers(1, 3)), draw(st.integers(0, 9)), draw(st.integers(0, 2)))
        for i in range(draw(st.integers(0, 3)))
    ]
    return bids, offers


@settings(max_examples=300)
@given(tiny_books())
def test_the_uniform_auction_reaches_the_welfare_of_a_brute_force_optimum(book):
    result = clear(Mechanism.UNIFORM, *book)
    assert result.social_welfare_exact * 1000 == brute_force_welfare(*book)


@given(st.sampled_from(list(Mechanism)), order_books())
def test_every_mechanism_conserves_energy_exactly(mechanism, book):
    bids, offers = book
    result = clear(mechanism, bids, offers)
    quantities = {order.order_id: order.quantity_wh for order in (*bids, *offers)}
    delivered = sum(result.fills[o.order_id] for o in offers)
    received = sum(result.fills[b.order_id] for b in bids)
    assert delivered == received == result.cleared_quantity_wh
    assert all(0 <= result.fills[i] <= quantities[i] for i in quantities)


@given(st.sampled_from(list(Mechanism)), order_books())
def test_no_mechanism_makes_a_trader_worse_off_than_its_limit(mechanism, book):
    bids, offers = book
    result = clear(mechanism, bids, offers)
    bid_limits = {o.order_id: o.limit_price for o in bids}
    offer_limits = {o.order_id: o.limit_price for o in offers}
    for match in result.matches:
        assert offer_limits[match.offer_id] <= match.price <= bid_limits[match.bid_id]


def test_the_mechanisms_differ_on_the_same_book():
    bids = [bid("b1", 100, 30), bid("b2", 100, 20)]
    offers = [offer("s1", 100, 8), offer("s2", 100, 10)]
    prices = {m: [x.price for x in clear(m, bids, offers).matches] for m in Mechanism}
    assert prices[Mechanism.UNIFORM] == [15, 15]
    assert prices[Mechanism.VOLUME_WEIGHTED] == [17, 17]
    # the reference: first match at P_base 19, the second's 100 Wh are 1000‰ of the 100 Wh
    # traded before it, so 15 + floor(15·1000·1000 / 10⁷) = 16
    assert prices[Mechanism.REFERENCE] == [19, 16]


def test_each_mechanism_is_named_in_market_rules_by_its_value():
    assert [m.value for m in Mechanism] == ["uniform", "volume-weighted", "reference"]
