"""The uniform-price double auction on hand-computed books.

The reference market (limits in minor units per kWh):

    bids                      offers
    b1  400 Wh @ 120 (seq 1)  s1  300 Wh @  60 (seq 1)
    b2  300 Wh @ 100 (seq 2)  s2  400 Wh @  80 (seq 2)
    b3  500 Wh @ 100 (seq 3)  s3  500 Wh @ 110 (seq 3)

Demand pays 120 for the first 400 Wh and 100 for the next 800; supply asks 60, then 80 up to
700 Wh, then 110. The 700th Wh still crosses (100 >= 80), the 701st does not (100 < 110), so
Q* = 700 Wh. The bid level at 100 holds 800 Wh for the 300 Wh left after b1: it is rationed,
which pins the clearing price to 100. Pro rata: b2 gets 300·300/800 = 112.5, b3 gets
300·500/800 = 187.5; the spare Wh goes to the equal remainder submitted first, b2.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from cordapp_energy.matching import ClearingResult, Match, clear_uniform
from fixtures.order_books import bid, offer

BIDS = [bid("b1", 400, 120, 1), bid("b2", 300, 100, 2), bid("b3", 500, 100, 3)]
OFFERS = [offer("s1", 300, 60, 1), offer("s2", 400, 80, 2), offer("s3", 500, 110, 3)]


@pytest.fixture
def reference() -> ClearingResult:
    return clear_uniform(BIDS, OFFERS)


def test_the_reference_market_clears_seven_hundred_wh(reference):
    assert reference.cleared_quantity_wh == 700


def test_a_rationed_bid_level_sets_the_price_at_its_limit(reference):
    assert reference.clearing_price == 100


def test_the_rationed_level_is_shared_pro_rata_with_the_spare_wh_to_the_earlier_bid(reference):
    assert (reference.fills["b2"], reference.fills["b3"]) == (113, 187)


def test_orders_inside_the_margin_fill_completely(reference):
    assert (reference.fills["b1"], reference.fills["s1"], reference.fills["s2"]) == (400, 300, 400)


def test_an_offer_above_the_price_is_reported_with_a_zero_fill(reference):
    assert reference.fills["s3"] == 0


def test_matches_pair_the_best_remaining_bid_with_the_best_remaining_offer(reference):
    assert reference.matches == (
        Match("b1", "s1", 300, 100),
        Match("b1", "s2", 100, 100),
        Match("b2", "s2", 113, 100),
        Match("b3", "s2", 187, 100),
    )


def test_welfare_is_the_gains_from_trade_in_minor_units(reference):
    # (400·120 + 300·100 - 300·60 - 400·80) minor-unit·Wh/kWh ÷ 1000 Wh/kWh
    assert (reference.social_welfare, reference.social_welfare_exact) == (28, Fraction(28))


def test_the_traded_share_is_cleared_over_offered_wh(reference):
    assert (reference.traded_share, reference.total_offered_wh, reference.total_bid_wh) == (
        Fraction(7, 12),
        1200,
        1200,
    )


def test_the_result_cannot_be_altered(reference):
    with pytest.raises(TypeError):
        reference.fills["b1"] = 0


def test_nothing_trades_when_the_best_bid_is_below_the_best_offer():
    result = clear_uniform([bid("b1", 100, 59)], [offer("s1", 100, 60)])
    assert (result.clearing_price, result.cleared_quantity_wh, result.matches) == (None, 0, ())


def test_orders_that_do_not_trade_still_get_a_zero_fill():
    result = clear_uniform([bid("b1", 100, 59)], [offer("s1", 100, 60)])
    assert dict(result.fills) == {"b1": 0, "s1": 0}


def test_a_market_without_trade_has_no_welfare_and_no_traded_share():
    result = clear_uniform([bid("b1", 100, 59)], [offer("s1", 100, 60)])
    assert (result.social_welfare, result.social_welfare_exact, result.traded_share) == (0, 0, 0)


def test_a_bid_equal_to_the_offer_trades_at_that_price():
    result = clear_uniform([bid("b1", 100, 60)], [offer("s1", 100, 60)])
    assert (result.clearing_price, result.cleared_quantity_wh) == (60, 100)


def test_without_bids_nothing_trades_but_the_offered_volume_is_reported():
    result = clear_uniform([], [offer("s1", 250, 60)])
    assert (result.cleared_quantity_wh, result.total_offered_wh, result.traded_share) == (0, 250, 0)


def test_without_offers_the_traded_share_is_zero_rather_than_undefined():
    result = clear_uniform([bid("b1", 250, 60)], [])
    assert (result.cleared_quantity_wh, result.total_bid_wh, result.traded_share) == (0, 250, 0)


def test_an_empty_book_clears_to_an_empty_result():
    result = clear_uniform([], [])
    assert (result.clearing_price, result.matches, dict(result.fills)) == (None, (), {})


@pytest.mark.parametrize(
    ("bid_limit", "offer_limit", "price"),
    [(100, 90, 95), (101, 90, 96), (102, 91, 96), (103, 90, 96)],
)
def test_the_price_is_the_midpoint_rounded_half_to_even(bid_limit, offer_limit, price):
    result = clear_uniform([bid("b1", 500, bid_limit)], [offer("s1", 500, offer_limit)])
    assert result.clearing_price == price


def test_untraded_orders_narrow_the_price_so_none_of_them_would_have_traded():
    # The marginal pair is (100, 50), but a bid at 90 is left out and an offer at 95 too: any
    # price in [90, 95] clears exactly 10 Wh; its midpoint 92.5 rounds to 92.
    bids = [bid("b1", 10, 100), bid("b2", 10, 90)]
    offers = [offer("s1", 10, 50), offer("s2", 10, 95)]
    assert clear_uniform(bids, offers).clearing_price == 92


def test_a_rationed_offer_level_sets_the_price_at_its_limit():
    result = clear_uniform([bid("b1", 500, 120)], [offer("s1", 300, 70), offer("s2", 300, 70)])
    assert (result.clearing_price, result.fills["s1"], result.fills["s2"]) == (70, 250, 250)


def test_the_largest_remainder_wins_the_spare_wh_over_an_earlier_submission():
    # 301 Wh over 100 + 200 + 300 Wh: 50.17, 100.33 and 150.5; b3's remainder is the largest.
    bids = [bid("b1", 100, 20, 0), bid("b2", 200, 20, 1), bid("b3", 300, 20, 2)]
    result = clear_uniform(bids, [offer("s1", 301, 10)])
    assert [result.fills[b] for b in ("b1", "b2", "b3")] == [50, 100, 151]


def test_equal_remainders_at_the_same_sequence_go_by_order_id():
    result = clear_uniform([bid("m", 1, 20), bid("k", 1, 20)], [offer("s1", 1, 10)])
    assert (result.fills["k"], result.fills["m"]) == (1, 0)


def test_welfare_below_one_minor_unit_is_kept_exactly_and_rounded_down():
    result = clear_uniform([bid("b1", 1500, 11)], [offer("s1", 1500, 10)])
    assert (result.social_welfare, result.social_welfare_exact) == (1, Fraction(3, 2))
