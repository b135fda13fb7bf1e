"""Properties of the uniform-price auction that hold for every order book."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from cordapp_energy.matching import clear_uniform
from fixtures.order_books import brute_force_max_volume, limits, matched_wh, order_books


@given(order_books())
def test_each_side_fills_exactly_the_cleared_quantity(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    bid_fills = sum(result.fills[order.order_id] for order in bids)
    offer_fills = sum(result.fills[order.order_id] for order in offers)
    assert bid_fills == offer_fills == result.cleared_quantity_wh


@given(order_books())
def test_no_order_fills_beyond_its_quantity(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    assert all(0 <= result.fills[order.order_id] <= order.quantity_wh for order in bids + offers)


@given(order_books())
def test_every_order_matches_exactly_its_fill(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    assert all(
        matched_wh(result, order.order_id) == result.fills[order.order_id]
        for order in bids + offers
    )


@given(order_books())
def test_matches_carry_positive_quantities_at_the_clearing_price(book):
    result = clear_uniform(*book)
    assert all(m.quantity_wh > 0 and m.price == result.clearing_price for m in result.matches)


@given(order_books())
def test_no_trade_is_above_its_bid_limit_or_below_its_offer_limit(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    bid_limit, offer_limit = limits(bids), limits(offers)
    assert all(offer_limit[m.offer_id] <= m.price <= bid_limit[m.bid_id] for m in result.matches)


@given(order_books())
def test_the_cleared_quantity_is_the_most_any_single_price_can_clear(book):
    bids, offers = book
    assert clear_uniform(bids, offers).cleared_quantity_wh == brute_force_max_volume(bids, offers)


@given(order_books())
def test_a_price_exists_exactly_when_something_trades(book):
    result = clear_uniform(*book)
    assert (result.clearing_price is None) == (result.cleared_quantity_wh == 0)


@given(order_books())
def test_no_order_left_out_would_have_traded_at_the_clearing_price(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    price = result.clearing_price
    if price is not None:
        assert all(result.fills[o.order_id] == o.quantity_wh for o in bids if o.limit_price > price)
        assert all(
            result.fills[o.order_id] == o.quantity_wh for o in offers if o.limit_price < price
        )


@given(order_books())
def test_a_bid_with_a_higher_limit_fills_completely_before_a_lower_one_gets_any(book):
    bids, _ = book
    result = clear_uniform(*book)
    for better in bids:
        for worse in bids:
            if better.limit_price > worse.limit_price and result.fills[worse.order_id] > 0:
                assert result.fills[better.order_id] == better.quantity_wh


@given(order_books())
def test_an_offer_with_a_lower_limit_fills_completely_before_a_higher_one_gets_any(book):
    _, offers = book
    result = clear_uniform(*book)
    for better in offers:
        for worse in offers:
            if better.limit_price < worse.limit_price and result.fills[worse.order_id] > 0:
                assert result.fills[better.order_id] == better.quantity_wh


@given(order_books())
def test_orders_at_one_price_level_get_their_proportional_share_within_one_wh(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    for side in (bids, offers):
        for price in {order.limit_price for order in side}:
            level = [order for order in side if order.limit_price == price]
            volume = sum(order.quantity_wh for order in level)
            traded = sum(result.fills[order.order_id] for order in level)
            for order in level:
                share = Fraction(traded * order.quantity_wh, volume)
                assert abs(result.fills[order.order_id] - share) < 1


@given(order_books())
def test_the_spare_wh_of_a_level_go_to_its_largest_remainders(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    for side in (bids, offers):
        for price in {order.limit_price for order in side}:
            level = [order for order in side if order.limit_price == price]
            volume = sum(order.quantity_wh for order in level)
            traded = sum(result.fills[order.order_id] for order in level)
            shares = {o.order_id: Fraction(traded * o.quantity_wh, volume) for o in level}
            rounded_up = [i for i, share in shares.items() if result.fills[i] > share]
            rounded_down = [i for i, share in shares.items() if result.fills[i] < share]
            for up in rounded_up:
                for down in rounded_down:
                    assert shares[up] % 1 >= shares[down] % 1


@given(order_books())
def test_welfare_equals_the_gains_summed_over_matches(book):
    bids, offers = book
    result = clear_uniform(bids, offers)
    bid_limit, offer_limit = limits(bids), limits(offers)
    gains = sum(
        Fraction(m.quantity_wh * (bid_limit[m.bid_id] - offer_limit[m.offer_id]), 1000)
        for m in result.matches
    )
    assert result.social_welfare_exact == gains
    assert result.social_welfare == math.floor(gains)


@given(order_books())
def test_the_traded_share_is_cleared_over_offered(book):
    _, offers = book
    result = clear_uniform(*book)
    offered = sum(order.quantity_wh for order in offers)
    assert result.total_offered_wh == offered
    assert result.traded_share * offered == result.cleared_quantity_wh


@given(order_books(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_input(book, random):
    bids, offers = book
    shuffled_bids, shuffled_offers = bids[:], offers[:]
    random.shuffle(shuffled_bids)
    random.shuffle(shuffled_offers)
    assert clear_uniform(shuffled_bids, shuffled_offers) == clear_uniform(bids, offers)
