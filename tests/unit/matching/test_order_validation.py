"""Malformed orders and books are refused with MatchingError before any clearing happens."""

from __future__ import annotations

import pytest

from cordapp_energy.matching import MatchingError, Order, Side, clear_uniform
from cordapp_energy.mechanisms import clear_reference, clear_volume_weighted, reference_price
from fixtures.order_books import bid, offer

CLEARINGS = [clear_uniform, clear_volume_weighted, clear_reference]


def test_matching_error_is_a_value_error():
    assert issubclass(MatchingError, ValueError)


@pytest.mark.parametrize("quantity", [0, -1])
def test_an_order_needs_a_positive_quantity(quantity):
    with pytest.raises(MatchingError, match="quantity_wh must be >= 1"):
        bid("b1", quantity, 10)


def test_a_limit_price_cannot_be_negative():
    with pytest.raises(MatchingError, match="limit_price must be >= 0"):
        offer("s1", 10, -1)


def test_a_free_offer_is_allowed():
    assert offer("s1", 10, 0).limit_price == 0


def test_a_sequence_number_cannot_be_negative():
    with pytest.raises(MatchingError, match="submitted_seq must be >= 0"):
        bid("b1", 10, 10, seq=-1)


@pytest.mark.parametrize("quantity", [1.0, True, "5"])
def test_quantities_must_be_plain_ints(quantity):
    with pytest.raises(MatchingError, match="quantity_wh must be an int"):
        bid("b1", quantity, 10)


def test_prices_must_be_plain_ints():
    with pytest.raises(MatchingError, match="limit_price must be an int"):
        bid("b1", 10, 10.5)


@pytest.mark.parametrize("order_id", ["", 7, None])
def test_an_order_id_is_a_non_empty_string(order_id):
    with pytest.raises(MatchingError, match="order_id must be a non-empty str"):
        Order(order_id, Side.BUY, 10, 10, 0)


def test_the_side_must_be_a_side():
    with pytest.raises(MatchingError, match="side must be a Side"):
        Order("b1", "buy", 10, 10, 0)


@pytest.mark.parametrize("clear", CLEARINGS)
def test_an_offer_in_the_bid_list_is_refused(clear):
    with pytest.raises(MatchingError, match="bids holds s1, a sell order"):
        clear([offer("s1", 10, 5)], [])


@pytest.mark.parametrize("clear", CLEARINGS)
def test_a_bid_in_the_offer_list_is_refused(clear):
    with pytest.raises(MatchingError, match="offers holds b1, a buy order"):
        clear([], [bid("b1", 10, 5)])


@pytest.mark.parametrize("clear", CLEARINGS)
def test_an_order_id_used_twice_on_one_side_is_refused(clear):
    with pytest.raises(MatchingError, match="duplicate order_id b1"):
        clear([bid("b1", 10, 5), bid("b1", 20, 6)], [])


@pytest.mark.parametrize("clear", CLEARINGS)
def test_an_order_id_shared_by_a_bid_and_an_offer_is_refused(clear):
    with pytest.raises(MatchingError, match="duplicate order_id x"):
        clear([bid("x", 10, 5)], [offer("x", 10, 5)])


@pytest.mark.parametrize("clear", CLEARINGS)
def test_books_must_hold_orders(clear):
    with pytest.raises(MatchingError, match="bids must hold Orders, got tuple"):
        clear([("b1", 10, 5)], [])


@pytest.mark.parametrize("delta_max_bp", [-1, 10_001])
def test_the_premium_cap_is_between_zero_and_one_hundred_percent(delta_max_bp):
    with pytest.raises(MatchingError, match="delta_max_bp"):
        clear_reference([], [], delta_max_bp)


def test_the_prior_market_volume_cannot_be_negative():
    with pytest.raises(MatchingError, match="market_volume_wh must be >= 0"):
        clear_reference([], [], market_volume_wh=-1)


def test_the_reference_price_is_only_defined_for_a_crossing_pair():
    with pytest.raises(MatchingError, match="bid price 40 is below offer price 50"):
        reference_price(40, 50, 1, 0)
