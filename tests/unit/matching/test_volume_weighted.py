"""The volume-weighted mechanism: priority pairs, one price, the volume-weighted mean midpoint."""

from __future__ import annotations

from hypothesis import given

from cordapp_energy.matching import clear_uniform
from cordapp_energy.mechanisms import clear_volume_weighted
from fixtures.order_books import bid, limits, offer, order_books


def test_the_price_is_the_volume_weighted_mean_of_the_pairs_midpoints():
    # pairs 30·8 (mid 19) and 20·10 (mid 15), 100 Wh each: (19 + 15) / 2 = 17
    bids = [bid("b1", 100, 30), bid("b2", 100, 20)]
    offers = [offer("s1", 100, 8), offer("s2", 100, 10)]
    result = clear_volume_weighted(bids, offers)
    assert result.clearing_price == 17
    assert {m.price for m in result.matches} == {17}
    assert result.cleared_quantity_wh == 200


def test_larger_pairs_weigh_more_in_the_price():
    # 300 Wh at mid 19 and 100 Wh at mid 15: (3·19 + 15) / 4 = 18
    bids = [bid("b1", 300, 30), bid("b2", 100, 20)]
    offers = [offer("s1", 300, 8), offer("s2", 100, 10)]
    assert clear_volume_weighted(bids, offers).clearing_price == 18


def test_the_price_is_clamped_to_the_lowest_matched_bid():
    # mean (100·38 + 10·21) / 220 = 18.2, but buyer b2 pays at most 11
    bids = [bid("b1", 100, 30), bid("b2", 10, 11)]
    offers = [offer("s1", 100, 8), offer("s2", 10, 10)]
    assert clear_volume_weighted(bids, offers).clearing_price == 11


def test_the_price_is_clamped_to_the_highest_matched_ask():
    bids = [bid("b1", 10, 30), bid("b2", 100, 20)]
    offers = [offer("s1", 10, 2), offer("s2", 100, 19)]
    # mean (10·32 + 100·39) / 220 = 19.18 → 19, inside [19, 20]
    assert clear_volume_weighted(bids, offers).clearing_price == 19
    bids = [bid("b1", 100, 40), bid("b2", 10, 20)]
    offers = [offer("s1", 100, 30), offer("s2", 10, 18)]
    # pairs 40·18 (10 Wh) then 40·30 (90 Wh) then 20·30 does not pay; mean 34.1 → 34
    assert clear_volume_weighted(bids, offers).clearing_price == 34


def test_half_a_minor_unit_rounds_to_even():
    assert clear_volume_weighted([bid("b", 100, 11)], [offer("s", 100, 10)]).clearing_price == 10
    assert clear_volume_weighted([bid("b", 100, 12)], [offer("s", 100, 11)]).clearing_price == 12


def test_nothing_clears_when_no_bid_pays_any_ask():
    result = clear_volume_weighted([bid("b", 100, 9)], [offer("s", 100, 10)])
    assert result.clearing_price is None
    assert result.matches == ()


@given(order_books())
def test_it_clears_the_same_volume_as_the_uniform_auction(book):
    assert (
        clear_volume_weighted(*book).cleared_quantity_wh == clear_uniform(*book).cleared_quantity_wh
    )


@given(order_books())
def test_no_filled_order_trades_beyond_its_limit(book):
    bids, offers = book
    result = clear_volume_weighted(bids, offers)
    bid_limits, offer_limits = limits(bids), limits(offers)
    for match in result.matches:
        assert offer_limits[match.offer_id] <= match.price <= bid_limits[match.bid_id]
