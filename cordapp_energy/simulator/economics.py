"""The community's market, interval by interval, in exact integers: orders from readings,
clearing by a mechanism, and the households' bills against the grid.

The ledger backends place the same orders through flows; this module is also the in-process
engine that clears a whole month in seconds, so mechanisms can be compared on the same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cordapp_energy.matching import Order, Side
from cordapp_energy.mechanisms import Mechanism, clear
from cordapp_energy.simulator.profiles import DayProfile
from cordapp_energy.units import energy_cost

MIN_ORDER_WH = 50
"""Smaller surpluses and deficits are not worth an order (the rules allow 10 Wh and up)."""


@dataclass(frozen=True)
class Pricing:
    """Asks between the feed-in tariff and bids below the retail price, drawn per order."""

    ask_range: tuple[int, int] = (6, 14)
    bid_range: tuple[int, int] = (10, 28)


@dataclass(frozen=True)
class Tariff:
    """The grid's prices in cents per kWh: what a household pays to import and earns to export."""

    retail_per_kwh: int = 30
    feed_in_per_kwh: int = 6


@dataclass(frozen=True)
class Intent:
    """A household's order for one interval: `quantity_wh` at no worse than `limit` per kWh."""

    household: str
    side: Side
    quantity_wh: int
    limit: int


@dataclass(frozen=True)
class Trade:
    buyer: str
    seller: str
    quantity_wh: int
    price: int

    @property
    def cost(self) -> int:
        return energy_cost(self.quantity_wh, self.price)


@dataclass
class IntervalOutcome:
    """What one interval did; a journal line, so a crashed run resumes where it stopped."""

    day: int
    interval: int
    offered_wh: int = 0
    bid_wh: int = 0
    cleared_wh: int = 0
    settled_wh: int = 0
    clearing_price: int | None = None
    welfare_milli: int = 0
    """Σ q·(bid limit - ask limit) over the settled trades, in Wh x cents/kWh (1/1000 cent)."""
    buyer_surplus_milli: int = 0
    seller_surplus_milli: int = 0
    failed_settlements: int = 0
    trades: list[Trade] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["trades"] = [[t.buyer, t.seller, t.quantity_wh, t.price] for t in self.trades]
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> IntervalOutcome:
        raw = dict(data)
        trades = raw.pop("trades")
        assert isinstance(trades, list)
        outcome = cls(**raw)  # type: ignore[arg-type]
        outcome.trades = [Trade(*row) for row in trades]
        return outcome


def intents(
    profile: DayProfile,
    households: Sequence[str],
    interval: int,
    pricing: Pricing,
    seed: int,
    day: int,
) -> tuple[list[Intent], list[Intent]]:
    """Offers of every surplus and bids for every deficit of at least MIN_ORDER_WH.

    Bids are placed only in intervals that have offers: the operator opens a window when
    supply is announced, so nights cost no flows. Prices are drawn from a generator seeded by
    (seed, day, interval), so every backend and every resumed run draws the same orders.
    """
    rng = random.Random(f"prices/{seed}/{day}/{interval}")
    offers, bids = [], []
    for name in households:
        net = profile.surplus_wh(name, interval)
        if net >= MIN_ORDER_WH:
            offers.append(Intent(name, Side.SELL, net, rng.randint(*pricing.ask_range)))
        elif -net >= MIN_ORDER_WH:
            bids.append(Intent(name, Side.BUY, -net, rng.randint(*pricing.bid_range)))
    return (offers, bids) if offers else ([], [])


def outcome_of(
    day: int,
    interval: int,
    offers: Sequence[Intent],
    bids: Sequence[Intent],
    trades: Iterable[Trade],
    clearing_price: int | None,
    cleared_wh: int,
    failed: int = 0,
) -> IntervalOutcome:
    """Totals, welfare and surplus split of an interval from its orders and settled trades."""
    limits = {(i.household, i.side): i.limit for i in (*offers, *bids)}
    settled = list(trades)
    outcome = IntervalOutcome(
        day=day,
        interval=interval,
        offered_wh=sum(i.quantity_wh for i in offers),
        bid_wh=sum(i.quantity_wh for i in bids),
        cleared_wh=cleared_wh,
        settled_wh=sum(t.quantity_wh for t in settled),
        clearing_price=clearing_price,
        failed_settlements=failed,
        trades=settled,
    )
    for trade in settled:
        bid = limits[(trade.buyer, Side.BUY)]
        ask = limits[(trade.seller, Side.SELL)]
        outcome.welfare_milli += trade.quantity_wh * (bid - ask)
        outcome.buyer_surplus_milli += trade.quantity_wh * (bid - trade.price)
        outcome.seller_surplus_milli += trade.quantity_wh * (trade.price - ask)
    return outcome


class InProcessMarket:
    """The market without a ledger: clear each interval by `mechanism` and settle every match."""

    name = "in process (market engine)"

    def __init__(self, mechanism: Mechanism, delta_max_bp: int = 1000) -> None:
        self.mechanism = mechanism
        self.delta_max_bp = delta_max_bp
        self.traded_wh = 0
        """V_total of the reference pricing: what the market traded before each match."""

    def clear(
        self, day: int, interval: int, offers: Sequence[Intent], bids: Sequence[Intent]
    ) -> IntervalOutcome:
        book: dict[str, Intent] = {}
        orders = []
        for seq, intent in enumerate((*offers, *bids)):
            order_id = f"{intent.side.value}:{intent.household}"
            book[order_id] = intent
            orders.append(Order(order_id, intent.side, intent.quantity_wh, intent.limit, seq))
        result = clear(
            self.mechanism,
            [o for o in orders if o.side is Side.BUY],
            [o for o in orders if o.side is Side.SELL],
            delta_max_bp=self.delta_max_bp,
            market_volume_wh=self.traded_wh,
        )
        self.traded_wh += result.cleared_quantity_wh
        trades = [
            Trade(book[m.bid_id].household, book[m.offer_id].household, m.quantity_wh, m.price)
            for m in result.matches
        ]
        return outcome_of(
            day,
            interval,
            offers,
            bids,
            trades,
            result.clearing_price,
            result.cleared_quantity_wh,
        )


@dataclass
class Bill:
    """One household's energy cost over a run, in cents: in the community and grid-only."""

    household: str
    imported_wh: int = 0
    exported_wh: int = 0
    bought_wh: int = 0
    sold_wh: int = 0
    paid: int = 0
    received: int = 0
    grid_only: int = 0
    community: int = 0

    @property
    def saving(self) -> int:
        return self.grid_only - self.community


def bills(
    profiles: Iterable[DayProfile],
    households: Sequence[str],
    outcomes: Iterable[IntervalOutcome],
    tariff: Tariff,
) -> dict[str, Bill]:
    """Each household's bill over the simulated intervals: every Wh it lacks bought from the
    community or else from the grid at retail, every Wh it has spare sold to the community or
    else to the grid at feed-in; against the grid-only bill (every deficit bought at retail,
    every surplus sold at feed-in)."""
    result = {name: Bill(name) for name in households}
    deficit: dict[str, int] = dict.fromkeys(households, 0)
    surplus: dict[str, int] = dict.fromkeys(households, 0)
    days = list(profiles)
    simulated = list(outcomes)
    for outcome in simulated:
        profile = days[outcome.day]
        for name in households:
            net = profile.surplus_wh(name, outcome.interval)
            if net > 0:
                surplus[name] += net
            else:
                deficit[name] -= net
    for outcome in simulated:
        for trade in outcome.trades:
            result[trade.buyer].bought_wh += trade.quantity_wh
            result[trade.buyer].paid += trade.cost
            result[trade.seller].sold_wh += trade.quantity_wh
            result[trade.seller].received += trade.cost
    for name, bill in result.items():
        bill.imported_wh = deficit[name] - bill.bought_wh
        bill.exported_wh = surplus[name] - bill.sold_wh
        bill.grid_only = energy_cost(deficit[name], tariff.retail_per_kwh) - energy_cost(
            surplus[name], tariff.feed_in_per_kwh
        )
        bill.community = (
            bill.paid
            - bill.received
            + energy_cost(bill.imported_wh, tariff.retail_per_kwh)
            - energy_cost(bill.exported_wh, tariff.feed_in_per_kwh)
        )
    return result
