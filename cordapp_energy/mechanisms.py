"""The selectable clearing mechanisms: uniform price, volume-weighted average, the reference's.

All three share ``matching``'s order book, price-time priority and result type, so a market's
rules can name one and the simulator can compare them on the same orders.

* ``Mechanism.UNIFORM``: ``matching.clear_uniform``, one price for the interval, pro rata at
  the margin.
* ``Mechanism.VOLUME_WEIGHTED``: ``clear_volume_weighted``, pairs in price-time priority and one
  price for the interval, the volume-weighted mean of the pairs' midpoints.
* ``Mechanism.REFERENCE``: ``clear_reference``, the GridTokenX pricing, a price per match.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from fractions import Fraction

from cordapp_energy.matching import (
    BASIS_POINTS,
    DEFAULT_DELTA_MAX_BP,
    PER_MILLE,
    ClearingResult,
    MatchingError,
    Order,
    _books,
    _pair_in_priority,
    _require_int,
    _result,
    clear_uniform,
)


class Mechanism(enum.StrEnum):
    """How an interval's orders clear; market rules name one, ``clear`` dispatches on it."""

    UNIFORM = "uniform"
    VOLUME_WEIGHTED = "volume-weighted"
    REFERENCE = "reference"


def _require_delta(delta_max_bp: int) -> None:
    """A premium cap above 100% is a configuration mistake, not a market rule."""
    _require_int("delta_max_bp", delta_max_bp, 0)
    if delta_max_bp > BASIS_POINTS:
        raise MatchingError(f"delta_max_bp must be <= {BASIS_POINTS}, got {delta_max_bp}")


def reference_price(
    bid_price: int,
    offer_price: int,
    trade_wh: int,
    market_volume_wh: int,
    delta_max_bp: int = DEFAULT_DELTA_MAX_BP,
) -> int:
    """The GridTokenX reference price of one match, unclamped, step by step as it computes it.

    P_base = floor((bid + ask) / 2); when the market has traded nothing yet the price is P_base;
    otherwise the volume weight w = min(floor(1000·V_trade / V_total), 1000) in per mille and the
    price is P_base + floor(P_base·w·δ_max / (1000·10000)), δ_max in basis points. At the
    default δ_max of 1000 bp this reproduces the reference program's integers exactly.
    """
    _require_int("bid_price", bid_price, 0)
    _require_int("offer_price", offer_price, 0)
    _require_int("trade_wh", trade_wh, 1)
    _require_int("market_volume_wh", market_volume_wh, 0)
    _require_delta(delta_max_bp)
    if bid_price < offer_price:
        raise MatchingError(f"bid price {bid_price} is below offer price {offer_price}")
    base = (bid_price + offer_price) // 2
    if market_volume_wh == 0:
        return base
    weight = min(trade_wh * PER_MILLE // market_volume_wh, PER_MILLE)
    return base + base * weight * delta_max_bp // (PER_MILLE * BASIS_POINTS)


def clear_reference(
    bids: Iterable[Order],
    offers: Iterable[Order],
    delta_max_bp: int = DEFAULT_DELTA_MAX_BP,
    *,
    market_volume_wh: int = 0,
) -> ClearingResult:
    """Clear one interval the GridTokenX way: price-time priority pairs, a price per match.

    Pairs come from the greedy transport in priority order (the margin goes by time priority,
    not pro rata), so the cleared quantity equals Q* of ``clear_uniform``. Each match is priced
    by ``reference_price`` with V_trade its own Wh and V_total the Wh the market traded
    before it: ``market_volume_wh`` (earlier intervals) plus this clearing's earlier matches.
    The reference does not clamp, so its price can exceed the buyer's limit; here each price is
    min(reference price, bid limit). It is never below the offer limit, since P_base is not.
    """
    _require_delta(delta_max_bp)
    _require_int("market_volume_wh", market_volume_wh, 0)
    bid_book, offer_book = _books(bids, offers)
    pairs = _pair_in_priority(
        [(bid, bid.quantity_wh) for bid in bid_book],
        [(offer, offer.quantity_wh) for offer in offer_book],
    )
    volume = market_volume_wh
    priced: list[tuple[Order, Order, int, int]] = []
    for bid, offer, quantity in pairs:
        reference = reference_price(
            bid.limit_price, offer.limit_price, quantity, volume, delta_max_bp
        )
        priced.append((bid, offer, quantity, min(reference, bid.limit_price)))
        volume += quantity
    return _result(bid_book, offer_book, priced, None)


def clear_volume_weighted(bids: Iterable[Order], offers: Iterable[Order]) -> ClearingResult:
    """One price per interval: the volume-weighted mean of the matched pairs' midpoints.

    Pairs come from the greedy transport in price-time priority (as in ``clear_reference``),
    so the cleared quantity is Q*. The price is Σ q·(bid + ask)/2 ÷ Σ q, rounded half to
    even, then clamped into [highest matched ask, lowest matched bid], so no filled order pays
    or receives worse than its limit. Every match carries that price.
    """
    bid_book, offer_book = _books(bids, offers)
    pairs = _pair_in_priority(
        [(bid, bid.quantity_wh) for bid in bid_book],
        [(offer, offer.quantity_wh) for offer in offer_book],
    )
    if not pairs:
        return _result(bid_book, offer_book, (), None)
    volume = sum(quantity for _, _, quantity in pairs)
    weighted = sum(q * (bid.limit_price + offer.limit_price) for bid, offer, q in pairs)
    mean = round(Fraction(weighted, 2 * volume))
    lowest_bid = min(bid.limit_price for bid, _, _ in pairs)
    highest_ask = max(offer.limit_price for _, offer, _ in pairs)
    price = min(max(mean, highest_ask), lowest_bid)
    return _result(bid_book, offer_book, [(*pair, price) for pair in pairs], price)


def clear(
    mechanism: Mechanism,
    bids: Iterable[Order],
    offers: Iterable[Order],
    *,
    delta_max_bp: int = DEFAULT_DELTA_MAX_BP,
    market_volume_wh: int = 0,
) -> ClearingResult:
    """Clear one interval by `mechanism`; the last two arguments matter to the reference only."""
    if mechanism is Mechanism.UNIFORM:
        return clear_uniform(bids, offers)
    if mechanism is Mechanism.VOLUME_WEIGHTED:
        return clear_volume_weighted(bids, offers)
    if mechanism is Mechanism.REFERENCE:
        return clear_reference(bids, offers, delta_max_bp, market_volume_wh=market_volume_wh)
    raise MatchingError(f"unknown clearing mechanism {mechanism!r}")
