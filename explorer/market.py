"""The energy market as one node's vault and transactions record it: pure functions over the
RPC's JSON renderings, so they need no CorDapp code and are tested on plain data.

- the order book per delivery window (bids by price descending, offers ascending);
- each clearing (a transaction with an `energy.Match` command): its fills, price, volume, and
  the supply and demand curves of the orders it consumed;
- settlements (transactions with an `energy.Settle` command);
- each owner's balances over time, from when states were recorded and consumed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dlt.rpc.client import StateStatus, TransactionInfo, VaultStateInfo

BID = "energy.BidState"
OFFER = "energy.OfferState"
ENERGY = "energy.EnergyState"
PAYMENT = "energy.PaymentState"
MATCH = "energy.Match"
SETTLE = "energy.Settle"


def party_label(value: Any) -> str:
    """A party as rendered by the node (a dict with a name, or text) as its name."""
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("owning_key") or "?")
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Order:
    ref: str
    side: str
    """"bid" or "offer"."""
    owner: str
    window_start: str
    window_end: str
    quantity_wh: int
    price_per_kwh: int
    energy_type: str
    currency: str
    open: bool
    linear_id: str


def orders_of(states: Iterable[VaultStateInfo]) -> list[Order]:
    """The bids and offers among `states` (any status)."""
    orders = []
    for state in states:
        if state.state_type not in (BID, OFFER):
            continue
        data = state.data or {}
        window = data.get("window") or {}
        orders.append(
            Order(
                ref=state.ref,
                side="bid" if state.state_type == BID else "offer",
                owner=party_label(data.get("owner")),
                window_start=str(window.get("start", "")),
                window_end=str(window.get("end", "")),
                quantity_wh=int(data.get("max_quantity_wh", 0)),
                price_per_kwh=int(data.get("limit_price_per_kwh", 0)),
                energy_type=str(data.get("energy_type", "")),
                currency=str(data.get("currency", "")),
                open=state.status is StateStatus.UNCONSUMED,
                linear_id=_linear_id(data.get("linear_id")),
            )
        )
    return orders


@dataclass(frozen=True)
class Book:
    window_start: str
    window_end: str
    bids: tuple[Order, ...]
    offers: tuple[Order, ...]


def books(orders: Iterable[Order], *, open_only: bool = True) -> list[Book]:
    """One book per delivery window, earliest first: bids best (highest) first, offers best
    (lowest) first."""
    by_window: dict[tuple[str, str], list[Order]] = defaultdict(list)
    for order in orders:
        if order.open or not open_only:
            by_window[(order.window_start, order.window_end)].append(order)
    return [
        Book(
            window_start=start,
            window_end=end,
            bids=tuple(sorted((o for o in chosen if o.side == "bid"), key=_bid_rank)),
            offers=tuple(sorted((o for o in chosen if o.side == "offer"), key=_offer_rank)),
        )
        for (start, end), chosen in sorted(by_window.items())
    ]


def _bid_rank(order: Order) -> tuple[int, str]:
    return (-order.price_per_kwh, order.ref)


def _offer_rank(order: Order) -> tuple[int, str]:
    return (order.price_per_kwh, order.ref)


Point = tuple[int, int]
"""(cumulative quantity in Wh, price per kWh)."""


def curve(orders: Sequence[Order]) -> list[Point]:
    """A step curve through `orders` in the order given (best first): each order extends the
    cumulative quantity at its limit price."""
    points: list[Point] = []
    total = 0
    for order in orders:
        points.append((total, order.price_per_kwh))
        total += order.quantity_wh
        points.append((total, order.price_per_kwh))
    return points


@dataclass(frozen=True)
class Fill:
    bid: str
    offer: str
    buyer: str
    seller: str
    quantity_wh: int
    price_per_kwh: int


@dataclass(frozen=True)
class Clearing:
    tx_id: str
    window_start: str
    window_end: str
    fills: tuple[Fill, ...]
    demand: tuple[Point, ...]
    supply: tuple[Point, ...]

    @property
    def volume_wh(self) -> int:
        return sum(fill.quantity_wh for fill in self.fills)

    @property
    def prices(self) -> tuple[int, ...]:
        """The distinct prices paid: one under uniform-price clearing."""
        return tuple(sorted({fill.price_per_kwh for fill in self.fills}))


def clearings(transactions: Iterable[TransactionInfo], orders: Iterable[Order]) -> list[Clearing]:
    """Every Match transaction, with the orders it consumed as its book."""
    by_ref = {order.ref: order for order in orders}
    result = []
    for tx in transactions:
        data = tx.transaction.data or {}
        match = next((c for c in data.get("commands", ()) if c.get("type") == MATCH), None)
        if match is None:
            continue
        consumed = [by_ref[ref] for ref in data.get("inputs", ()) if ref in by_ref]
        by_linear = {order.linear_id: order for order in consumed}
        bids = sorted((o for o in consumed if o.side == "bid"), key=_bid_rank)
        offers = sorted((o for o in consumed if o.side == "offer"), key=_offer_rank)
        fills = tuple(_fill(fill, by_linear) for fill in (match.get("data") or {}).get("fills", ()))
        window = consumed[0] if consumed else None
        result.append(
            Clearing(
                tx_id=tx.id,
                window_start=window.window_start if window else "",
                window_end=window.window_end if window else "",
                fills=fills,
                demand=tuple(curve(bids)),
                supply=tuple(curve(offers)),
            )
        )
    return result


def _fill(fill: Mapping[str, Any], by_linear: Mapping[str, Order]) -> Fill:
    bid, offer = _linear_id(fill.get("bid_id")), _linear_id(fill.get("offer_id"))
    return Fill(
        bid=bid,
        offer=offer,
        buyer=by_linear[bid].owner if bid in by_linear else "",
        seller=by_linear[offer].owner if offer in by_linear else "",
        quantity_wh=int(fill.get("quantity_wh", 0)),
        price_per_kwh=int(fill.get("price_per_kwh", 0)),
    )


def _linear_id(value: Any) -> str:
    """A UniqueIdentifier as rendered (a dict with an id, or text) as its id text."""
    if isinstance(value, Mapping):
        return str(value.get("id", ""))
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Settlement:
    tx_id: str
    seller: str
    buyer: str
    quantity_wh: int
    price_per_kwh: int
    notary: str


def settlements(transactions: Iterable[TransactionInfo]) -> list[Settlement]:
    """Every delivery-versus-payment transaction: one per Settle command."""
    result = []
    for tx in transactions:
        data = tx.transaction.data or {}
        for command in data.get("commands", ()):
            if command.get("type") != SETTLE:
                continue
            terms = command.get("data") or {}
            result.append(
                Settlement(
                    tx_id=tx.id,
                    seller=party_label(terms.get("seller")),
                    buyer=party_label(terms.get("buyer")),
                    quantity_wh=int(terms.get("quantity_wh", 0)),
                    price_per_kwh=int(terms.get("price_per_kwh", 0)),
                    notary=str(data.get("notary") or ""),
                )
            )
    return result


@dataclass(frozen=True)
class Series:
    """One owner's holding of one asset (money in a currency, or energy) over time."""

    owner: str
    asset: str
    points: tuple[tuple[datetime, int], ...]
    """(moment, balance after it), in time order."""

    @property
    def current(self) -> int:
        return self.points[-1][1] if self.points else 0


def balances(states: Iterable[VaultStateInfo]) -> list[Series]:
    """Each owner's money and energy over time: + when a state was recorded, - when consumed."""
    events: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    for state in states:
        data = state.data or {}
        if state.state_type == PAYMENT:
            asset, amount = f"money ({data.get('currency', '')}, minor units)", data.get("amount")
        elif state.state_type == ENERGY:
            asset, amount = f"energy ({data.get('energy_type', '')}, Wh)", data.get("quantity_wh")
        else:
            continue
        key = (party_label(data.get("owner")), asset)
        events[key].append((state.recorded_at, int(amount or 0)))
        if state.consumed_at is not None:
            events[key].append((state.consumed_at, -int(amount or 0)))
    series = []
    for (owner, asset), changes in sorted(events.items()):
        total = 0
        points: list[tuple[datetime, int]] = []
        for moment, change in sorted(changes):
            total += change
            if points and points[-1][0] == moment:
                points[-1] = (moment, total)
            else:
                points.append((moment, total))
        series.append(Series(owner, asset, tuple(points)))
    return series
