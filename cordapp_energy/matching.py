"""Market clearing for one delivery interval, in exact integer arithmetic.

A pure module: no I/O, no ledger types, no floats. Quantities are Wh, limit prices are minor
currency units per kWh, so q Wh at p per kWh is worth q·p/1000 minor units. Two mechanisms share
one order book and one result type, so the CorDapp and the benchmarks can compare them directly.

``clear_uniform`` - uniform-price double auction (the market operator's mechanism):

* Priority. Bids by limit descending, offers by limit ascending; equal limits by
  ``submitted_seq`` then ``order_id``. Orders with equal limits form one price level.
* Quantity. Q* is the largest q for which the q-th Wh of demand still pays the q-th Wh of supply
  (the aggregate curves walked Wh block by Wh block). Among allocations that share one price it
  is the largest tradable volume: max over p of min(demand at p, supply at p).
* Price. Let b_m and s_m be the limits of the last traded bid and offer (the marginal pair), and
  b_x and s_x the limits of the first bid and offer Wh left untraded (absent when a side is
  exhausted). Every price in [max(s_m, b_x), min(b_m, s_x)] clears the market: no filled order
  would refuse it and no untraded order would have traded at it. The clearing price is that
  interval's midpoint rounded half to even, so it lies within [s_m, b_m] and the half unit
  favours neither buyers nor sellers systematically. When one side's marginal level is rationed
  the interval is a single point: that level's limit.
* Allocation. Levels strictly inside the margin fill completely. The marginal level of a side
  that has more volume than can trade shares the remainder R pro rata to quantity by the largest
  remainder method: each order gets floor(R·q/V); the Wh left over go one each to the largest
  remainders, equal remainders by ``submitted_seq`` then ``order_id``. Fills on each side sum to
  Q* exactly.
* Matches. Filled bids and filled offers are paired by a greedy transport in price priority
  (best remaining bid with best remaining offer), all at the clearing price, so each order's
  matched Wh equal its fill.

The other mechanisms (volume-weighted average, the GridTokenX reference pricing) live in
``cordapp_energy.mechanisms`` and share this module's book, pairing and result.

Welfare (both): the gains from trade Σ over matches of q·(bid limit - offer limit)/1000 minor
units; exact as a Fraction, and as an int rounded down. It does not depend on the settlement
prices, which only move money between the two parties of each match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from types import MappingProxyType

WH_PER_KWH = 1000
BASIS_POINTS = 10_000
PER_MILLE = 1000
DEFAULT_DELTA_MAX_BP = 1000


class MatchingError(ValueError):
    """The order book cannot be cleared because the input itself is malformed."""


class Side(Enum):
    """Which way an order trades energy."""

    BUY = "buy"
    SELL = "sell"


def _require_int(name: str, value: object, minimum: int) -> None:
    """Refuse bools, floats and anything else that is not an int at or above ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise MatchingError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise MatchingError(f"{name} must be >= {minimum}, got {value}")


@dataclass(frozen=True, slots=True)
class Order:
    """A limit order for one delivery interval; validated on construction so books stay sane."""

    order_id: str
    side: Side
    quantity_wh: int
    limit_price: int
    submitted_seq: int

    def __post_init__(self) -> None:
        if not isinstance(self.order_id, str) or not self.order_id:
            raise MatchingError(f"order_id must be a non-empty str, got {self.order_id!r}")
        if not isinstance(self.side, Side):
            raise MatchingError(f"order {self.order_id}: side must be a Side, got {self.side!r}")
        _require_int(f"order {self.order_id}: quantity_wh", self.quantity_wh, 1)
        _require_int(f"order {self.order_id}: limit_price", self.limit_price, 0)
        _require_int(f"order {self.order_id}: submitted_seq", self.submitted_seq, 0)


@dataclass(frozen=True, slots=True)
class Match:
    """Energy moving from one offer to one bid at one price per kWh."""

    bid_id: str
    offer_id: str
    quantity_wh: int
    price: int


@dataclass(frozen=True, slots=True)
class ClearingResult:
    """The outcome of clearing one interval; ``fills`` names every order, traded or not.

    ``clearing_price`` is the single price of a uniform clearing, or None when nothing traded
    or when each match carries its own price (``mechanisms.clear_reference``). ``traded_share`` is
    cleared ÷ offered Wh (0 when nothing is offered).
    """

    clearing_price: int | None
    cleared_quantity_wh: int
    matches: tuple[Match, ...]
    fills: Mapping[str, int] = field(hash=False)
    social_welfare: int
    social_welfare_exact: Fraction
    traded_share: Fraction
    total_offered_wh: int
    total_bid_wh: int


@dataclass(frozen=True, slots=True)
class _SideFill:
    """One side's allocation and the limit of its first untraded Wh (None if all traded)."""

    fills: dict[str, int]
    next_price: int | None


def _bid_priority(order: Order) -> tuple[int, int, str]:
    return (-order.limit_price, order.submitted_seq, order.order_id)


def _offer_priority(order: Order) -> tuple[int, int, str]:
    return (order.limit_price, order.submitted_seq, order.order_id)


def _books(
    bids: Iterable[Order], offers: Iterable[Order]
) -> tuple[tuple[Order, ...], tuple[Order, ...]]:
    """Validate both sides and sort them into priority order, independent of input order."""
    bid_book = tuple(bids)
    offer_book = tuple(offers)
    seen: set[str] = set()
    for name, side, book in (("bids", Side.BUY, bid_book), ("offers", Side.SELL, offer_book)):
        for order in book:
            if not isinstance(order, Order):
                raise MatchingError(f"{name} must hold Orders, got {type(order).__name__}")
            if order.side is not side:
                raise MatchingError(f"{name} holds {order.order_id}, a {order.side.value} order")
            if order.order_id in seen:
                raise MatchingError(f"duplicate order_id {order.order_id}")
            seen.add(order.order_id)
    return tuple(sorted(bid_book, key=_bid_priority)), tuple(
        sorted(offer_book, key=_offer_priority)
    )


def _pair_in_priority(
    bids: Sequence[tuple[Order, int]], offers: Sequence[tuple[Order, int]]
) -> list[tuple[Order, Order, int]]:
    """Greedy transport: the best remaining bid meets the best remaining offer while it pays.

    Both sequences are (order, Wh available) in priority order. Stopping at the first pair whose
    bid is below the ask walks the aggregate curves, so the paired total is Q*.
    """
    pairs: list[tuple[Order, Order, int]] = []
    i = j = 0
    bid_left = bids[0][1] if bids else 0
    offer_left = offers[0][1] if offers else 0
    while i < len(bids) and j < len(offers):
        bid, offer = bids[i][0], offers[j][0]
        if bid.limit_price < offer.limit_price:
            break
        step = min(bid_left, offer_left)
        pairs.append((bid, offer, step))
        bid_left -= step
        offer_left -= step
        if bid_left == 0:
            i += 1
            bid_left = bids[i][1] if i < len(bids) else 0
        if offer_left == 0:
            j += 1
            offer_left = offers[j][1] if j < len(offers) else 0
    return pairs


def _price_levels(book: Sequence[Order]) -> list[tuple[Order, ...]]:
    """Runs of equal limit price in a priority-sorted book."""
    levels: list[tuple[Order, ...]] = []
    start = 0
    for k in range(1, len(book) + 1):
        if k == len(book) or book[k].limit_price != book[start].limit_price:
            levels.append(tuple(book[start:k]))
            start = k
    return levels


def _pro_rata(level: Sequence[Order], amount: int) -> dict[str, int]:
    """Share ``amount`` Wh across one price level by the largest remainder method."""
    volume = sum(order.quantity_wh for order in level)
    shares: dict[str, int] = {}
    remainders: list[tuple[int, Order]] = []
    for order in level:
        share, remainder = divmod(amount * order.quantity_wh, volume)
        shares[order.order_id] = share
        remainders.append((remainder, order))
    leftover = amount - sum(shares.values())
    remainders.sort(key=lambda item: (-item[0], item[1].submitted_seq, item[1].order_id))
    for _, order in remainders[:leftover]:
        shares[order.order_id] += 1
    return shares


def _fill_side(book: Sequence[Order], quantity: int) -> _SideFill:
    """Fill levels in priority order up to ``quantity`` Wh, pro rata at a rationed margin."""
    fills: dict[str, int] = {}
    remaining = quantity
    next_price: int | None = None
    for level in _price_levels(book):
        price = level[0].limit_price
        volume = sum(order.quantity_wh for order in level)
        if remaining == 0:
            fills.update((order.order_id, 0) for order in level)
            if next_price is None:
                next_price = price
        elif remaining >= volume:
            fills.update((order.order_id, order.quantity_wh) for order in level)
            remaining -= volume
        else:
            fills.update(_pro_rata(level, remaining))
            next_price = price
            remaining = 0
    return _SideFill(fills, next_price)


def _uniform_price(
    marginal_bid: Order, marginal_offer: Order, bid_side: _SideFill, offer_side: _SideFill
) -> int:
    """Midpoint of the market-clearing interval, rounded half to even (see the module doc)."""
    low = marginal_offer.limit_price
    high = marginal_bid.limit_price
    if bid_side.next_price is not None:
        low = max(low, bid_side.next_price)
    if offer_side.next_price is not None:
        high = min(high, offer_side.next_price)
    return round(Fraction(low + high, 2))


def _result(
    bid_book: Sequence[Order],
    offer_book: Sequence[Order],
    priced_pairs: Sequence[tuple[Order, Order, int, int]],
    clearing_price: int | None,
) -> ClearingResult:
    """Derive fills, totals and welfare from the matches so they agree by construction."""
    fills = {order.order_id: 0 for order in (*bid_book, *offer_book)}
    gains = 0
    for bid, offer, quantity, _ in priced_pairs:
        fills[bid.order_id] += quantity
        fills[offer.order_id] += quantity
        gains += quantity * (bid.limit_price - offer.limit_price)
    cleared = sum(quantity for _, _, quantity, _ in priced_pairs)
    total_offered = sum(order.quantity_wh for order in offer_book)
    welfare = Fraction(gains, WH_PER_KWH)
    return ClearingResult(
        clearing_price=clearing_price,
        cleared_quantity_wh=cleared,
        matches=tuple(
            Match(bid.order_id, offer.order_id, quantity, price)
            for bid, offer, quantity, price in priced_pairs
        ),
        fills=MappingProxyType(fills),
        social_welfare=math.floor(welfare),
        social_welfare_exact=welfare,
        traded_share=Fraction(cleared, total_offered) if total_offered else Fraction(0),
        total_offered_wh=total_offered,
        total_bid_wh=sum(order.quantity_wh for order in bid_book),
    )


def clear_uniform(bids: Iterable[Order], offers: Iterable[Order]) -> ClearingResult:
    """Clear one interval at a single price: maximal volume, pro rata at the margin.

    The rules (priority, Q*, price, rounding, allocation, pairing) are in the module docstring.
    """
    bid_book, offer_book = _books(bids, offers)
    whole = _pair_in_priority(
        [(bid, bid.quantity_wh) for bid in bid_book],
        [(offer, offer.quantity_wh) for offer in offer_book],
    )
    quantity = sum(step for _, _, step in whole)
    if quantity == 0:
        return _result(bid_book, offer_book, (), None)
    bid_side = _fill_side(bid_book, quantity)
    offer_side = _fill_side(offer_book, quantity)
    marginal_bid, marginal_offer, _ = whole[-1]
    price = _uniform_price(marginal_bid, marginal_offer, bid_side, offer_side)
    pairs = _pair_in_priority(
        [(bid, bid_side.fills[bid.order_id]) for bid in bid_book if bid_side.fills[bid.order_id]],
        [
            (offer, offer_side.fills[offer.order_id])
            for offer in offer_book
            if offer_side.fills[offer.order_id]
        ],
    )
    return _result(bid_book, offer_book, [(*pair, price) for pair in pairs], price)
