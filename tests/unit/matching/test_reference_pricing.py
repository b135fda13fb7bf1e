"""The GridTokenX reference pricing: a price per match, P_base plus a volume-weighted premium."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from cordapp_energy.matching import Match, clear_uniform
from cordapp_energy.mechanisms import clear_reference, reference_price
from fixtures.order_books import bid, limits, matched_wh, offer, order_books


def test_the_first_trade_of_a_market_is_priced_at_the_midpoint():
    assert reference_price(550, 450, trade_wh=100_000, market_volume_wh=0) == 500


def test_the_midpoint_rounds_down_to_a_whole_minor_unit():
    assert reference_price(101, 100, trade_wh=1, market_volume_wh=0) == 100


def test_the_premium_is_the_trades_share_of_market_volume_times_ten_percent():
    # weight 500‰ of δ_max 10 % → 5 % on top of 1000
    assert reference_price(1000, 1000, trade_wh=500, market_volume_wh=1000) == 1050


def test_the_volume_weight_is_capped_at_one_hundred_percent():
    assert reference_price(1000, 1000, trade_wh=5000, market_volume_wh=1000) == 1100


def test_the_volume_weight_is_truncated_to_whole_per_mille():
    # 1/3 of the market → 333‰, so 1000 + floor(1000·333·1000 / 10⁷) = 1033
    assert reference_price(1000, 1000, trade_wh=1, market_volume_wh=3) == 1033


def test_the_premium_cap_is_configurable_in_basis_points():
    price = reference_price(1000, 1000, 1000, 1000, delta_max_bp=2500)
    assert price == 1250


def test_without_a_premium_cap_every_match_is_at_its_midpoint():
    result = clear_reference(
        [bid("b1", 100, 90), bid("b2", 100, 80)], [offer("s1", 200, 60)], delta_max_bp=0
    )
    assert [m.price for m in result.matches] == [75, 70]


def test_a_premium_that_would_exceed_the_bid_limit_is_clamped_to_it():
    result = clear_reference(
        [bid("b1", 1000, 1000)], [offer("s1", 1000, 1000)], market_volume_wh=1000
    )
    assert result.matches == (Match("b1", "s1", 1000, 1000),)


def test_earlier_matches_of_the_same_clearing_count_as_market_volume():
    # b1·s1 is the market's first trade (500); then 100 Wh against 100 Wh traded → +10 %.
    result = clear_reference([bid("b1", 100, 1000), bid("b2", 100, 1000)], [offer("s1", 200, 0)])
    assert [m.price for m in result.matches] == [500, 550]


def test_volume_traded_before_this_clearing_counts_as_market_volume():
    result = clear_reference([bid("b1", 100, 1000)], [offer("s1", 100, 0)], market_volume_wh=100)
    assert result.matches[0].price == 550


def test_the_margin_goes_by_time_priority_not_pro_rata():
    bids = [bid("late", 100, 50, seq=2), bid("early", 100, 50, seq=1)]
    result = clear_reference(bids, [offer("s1", 150, 40)])
    assert (result.fills["early"], result.fills["late"]) == (100, 50)


def test_matches_have_no_single_clearing_price():
    result = clear_reference([bid("b1", 100, 50)], [offer("s1", 100, 40)])
    assert (result.clearing_price, result.cleared_quantity_wh) == (None, 100)


def test_nothing_trades_when_the_best_bid_is_below_the_best_offer():
    result = clear_reference([bid("b1", 100, 39)], [offer("s1", 100, 40)])
    assert (result.cleared_quantity_wh, result.matches, dict(result.fills)) == (
        0,
        (),
        {"b1": 0, "s1": 0},
    )


def test_an_empty_book_clears_to_an_empty_result():
    result = clear_reference([], [])
    assert (result.matches, result.traded_share, result.social_welfare) == ((), 0, 0)


@given(order_books())
def test_each_side_fills_exactly_the_cleared_quantity(book):
    bids, offers = book
    result = clear_reference(bids, offers)
    bid_fills = sum(result.fills[order.order_id] for order in bids)
    offer_fills = sum(result.fills[order.order_id] for order in offers)
    assert bid_fills == offer_fills == result.cleared_quantity_wh


@given(order_books())
def test_every_order_matches_exactly_its_fill_and_no_more_than_its_quantity(book):
    bids, offers = book
    result = clear_reference(bids, offers)
    for order in bids + offers:
        assert matched_wh(result, order.order_id) == result.fills[order.order_id]
        assert result.fills[order.order_id] <= order.quantity_wh


@given(
    order_books(),
    st.integers(0, 10_000),
    st.integers(0, 200),
)
def test_no_trade_is_above_its_bid_limit_or_below_its_offer_limit(book, delta_max_bp, prior_wh):
    bids, offers = book
    result = clear_reference(bids, offers, delta_max_bp, market_volume_wh=prior_wh)
    bid_limit, offer_limit = limits(bids), limits(offers)
    assert all(offer_limit[m.offer_id] <= m.price <= bid_limit[m.bid_id] for m in result.matches)


@given(order_books(), st.integers(0, 200))
def test_no_trade_is_below_its_midpoint(book, prior_wh):
    bids, offers = book
    result = clear_reference(bids, offers, market_volume_wh=prior_wh)
    bid_limit, offer_limit = limits(bids), limits(offers)
    assert all(
        m.price >= (bid_limit[m.bid_id] + offer_limit[m.offer_id]) // 2 for m in result.matches
    )


@given(order_books())
def test_it_clears_the_same_quantity_as_the_uniform_auction(book):
    result = clear_reference(*book)
    assert result.cleared_quantity_wh == clear_uniform(*book).cleared_quantity_wh


@given(order_books())
def test_a_bid_with_a_higher_limit_fills_completely_before_a_lower_one_gets_any(book):
    bids, _ = book
    result = clear_reference(*book)
    for better in bids:
        for worse in bids:
            if better.limit_price > worse.limit_price and result.fills[worse.order_id] > 0:
                assert result.fills[better.order_id] == better.quantity_wh


@given(order_books())
def test_welfare_equals_the_gains_summed_over_matches(book):
    bids, offers = book
    result = clear_reference(bids, offers)
    bid_limit, offer_limit = limits(bids), limits(offers)
    gains = sum(
        Fraction(m.quantity_wh * (bid_limit[m.bid_id] - offer_limit[m.offer_id]), 1000)
        for m in result.matches
    )
    assert (result.social_welfare_exact, result.social_welfare) == (gains, math.floor(gains))


@given(order_books(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_input(book, random):
    bids, offers = book
    shuffled_bids, shuffled_offers = bids[:], offers[:]
    random.shuffle(shuffled_bids)
    random.shuffle(shuffled_offers)
    assert clear_reference(shuffled_bids, shuffled_offers) == clear_reference(bids, offers)
