"""Figures from the published references, reproduced exactly or contrasted on purpose.

The GridTokenX worked examples (NakaSato/gridtokenx-anchor, docs/ALGORITHMS.md, sections 1.1
to 1.3) quote THB per kWh; here they are satang per kWh and Wh. Its order book, with submission
times as sequence numbers:

    buy  #1 100 kWh @ 5.50 (14:00:00)   sell #4 180 kWh @ 4.50 (14:00:02)
    buy  #2 200 kWh @ 5.00 (14:00:05)   sell #5 120 kWh @ 5.00 (14:00:07)
    buy  #3 150 kWh @ 4.80 (14:00:10)   sell #6  80 kWh @ 5.20 (14:00:12)

It pairs #1·#4 100 kWh, #2·#4 80 kWh and #2·#5 120 kWh, and lists the trades' prices as 5.00,
5.13 and 5.33 THB - the last two above buyer #2's limit of 5.00, which the clamp here prevents.
"""

from __future__ import annotations

from fractions import Fraction

from cordapp_energy.matching import Match, clear_uniform
from cordapp_energy.mechanisms import clear_reference, reference_price
from fixtures.order_books import bid, offer

KWH = 1000

GRIDTOKENX_BIDS = [
    bid("#1", 100 * KWH, 550, seq=0),
    bid("#2", 200 * KWH, 500, seq=5),
    bid("#3", 150 * KWH, 480, seq=10),
]
GRIDTOKENX_OFFERS = [
    offer("#4", 180 * KWH, 450, seq=2),
    offer("#5", 120 * KWH, 500, seq=7),
    offer("#6", 80 * KWH, 520, seq=12),
]


def test_the_worked_price_example_gives_five_baht():
    # 5.50 and 4.50 THB, 100 kWh into a market that has traded 10,000 kWh: weight 10‰.
    assert reference_price(550, 450, 100 * KWH, 10_000 * KWH) == 500


def test_the_reference_formula_reproduces_the_published_trade_prices():
    prices = [
        reference_price(550, 450, 100 * KWH, 0),
        reference_price(500, 450, 80 * KWH, 100 * KWH),
        reference_price(500, 500, 120 * KWH, 180 * KWH),
    ]
    assert prices == [500, 513, 533]


def test_the_reference_book_pairs_as_published_with_prices_clamped_to_the_bid():
    result = clear_reference(GRIDTOKENX_BIDS, GRIDTOKENX_OFFERS)
    assert result.matches == (
        Match("#1", "#4", 100 * KWH, 500),
        Match("#2", "#4", 80 * KWH, 500),
        Match("#2", "#5", 120 * KWH, 500),
    )


def test_the_reference_book_trades_fifteen_nineteenths_of_the_offered_energy():
    result = clear_reference(GRIDTOKENX_BIDS, GRIDTOKENX_OFFERS)
    assert (result.cleared_quantity_wh, result.total_offered_wh, result.traded_share) == (
        300 * KWH,
        380 * KWH,
        Fraction(15, 19),
    )


def test_the_uniform_auction_reports_the_same_share_on_the_reference_book():
    result = clear_uniform(GRIDTOKENX_BIDS, GRIDTOKENX_OFFERS)
    assert (result.clearing_price, result.traded_share) == (500, Fraction(15, 19))


def test_a_share_like_the_sealed_bid_studys_is_reported_exactly_not_as_a_rounded_float():
    # The double-auction study in the brief traded 83.72 % of energy. Here 8,372 of 10,000
    # offered Wh clear: the 45-limit bid is priced out by the 50 offer, which is rationed.
    bids = [bid("b1", 5000, 70), bid("b2", 3372, 55), bid("b3", 2000, 45)]
    offers = [offer("s1", 6000, 30), offer("s2", 4000, 50)]
    result = clear_uniform(bids, offers)
    assert (result.traded_share, result.traded_share * 10_000, result.clearing_price) == (
        Fraction(2093, 2500),
        8372,
        50,
    )
