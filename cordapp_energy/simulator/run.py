"""Run the community: each 15-minute interval producers issue and offer their surplus,
consumers bid for their deficit, and the operator clears and settles the window."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as daytime
from pathlib import Path
from statistics import mean

from cordapp_energy.flows import (
    ClearingReport,
    ClearMarketFlow,
    PlaceBidFlow,
    PlaceOfferFlow,
    RequestEnergyFlow,
)
from cordapp_energy.simulator.market import Market, balance, holdings, open_market
from cordapp_energy.simulator.profiles import INTERVALS_PER_DAY, Community, CommunityParameters
from cordapp_energy.states import EnergyState, EnergyType
from dlt.cli.progress import Progress
from dlt.cli.table import key_values
from dlt.testing.mock_network import MockNode

MIN_ORDER_WH = 50
"""Smaller surpluses and deficits are not worth an order (the rules allow 10 Wh and up)."""
OPENING_BALANCE = 1_000_000
"""Cents each consumer starts with (10,000 EUR): enough for a month of bids."""


@dataclass(frozen=True)
class Pricing:
    """Asks between the feed-in tariff and bids below the retail price, drawn per order."""

    ask_range: tuple[int, int] = (6, 14)
    bid_range: tuple[int, int] = (10, 28)


@dataclass
class Summary:
    intervals: int = 0
    offered_wh: int = 0
    requested_wh: int = 0
    cleared_wh: int = 0
    settled_wh: int = 0
    failed_settlements: int = 0
    welfare: int = 0
    prices: list[int] = field(default_factory=list)
    issued_energy_wh: int = 0
    issued_money: int = 0
    flows: int = 0

    def add(self, report: ClearingReport) -> None:
        self.cleared_wh += report.cleared_wh
        self.settled_wh += report.settled_wh
        self.welfare += report.social_welfare
        self.failed_settlements += sum(1 for s in report.settlements if s.error is not None)
        if report.clearing_price is not None and report.cleared_wh:
            self.prices.append(report.clearing_price)


class Simulation:
    def __init__(
        self,
        base_dir: Path,
        parameters: CommunityParameters,
        pricing: Pricing = Pricing(),
        progress: bool = True,
    ) -> None:
        self.base_dir = base_dir
        self.parameters = parameters
        self.community = Community(parameters)
        self.pricing = pricing
        self.progress = Progress(quiet=not progress)
        self.summary = Summary()
        self._rng = random.Random(f"prices/{parameters.seed}")
        self.market: Market | None = None

    async def open(self) -> Market:
        starting = (
            f"Starting {len(self.community.prosumers)} prosumers, "
            f"{len(self.community.consumers)} consumers, operator, bank and notary"
        )
        with self.progress.working(starting):
            self.market = await open_market(
                self.base_dir,
                [h.name for h in self.community.prosumers],
                [h.name for h in self.community.consumers],
                opening_balance=OPENING_BALANCE,
            )
        self.summary.issued_money = OPENING_BALANCE * len(self.market.consumers)
        return self.market

    async def run(self, days: int, intervals: range | None = None) -> Summary:
        market = self.market or await self.open()
        for day in range(days):
            profile = self.community.day(day)
            day_start = datetime.combine(profile.day, daytime(0), tzinfo=UTC)
            windows = intervals or range(INTERVALS_PER_DAY)
            day_text = f"Day {profile.day} ({profile.weather})"
            with self.progress.counting(day_text, len(windows)) as count:
                for interval in windows:
                    window = day_start + timedelta(minutes=15 * interval)
                    await self._interval(market, profile, interval, window)
                    count.advance(
                        f"{window:%H:%M}  cleared {self.summary.cleared_wh / 1000:.1f} kWh, "
                        f"settled {self.summary.settled_wh / 1000:.1f} kWh, "
                        f"{self.summary.flows} flows"
                    )
        with self.progress.working("Waiting for the network to settle"):
            await market.network.settle(timeout=60)
        return self.summary

    async def _interval(
        self, market: Market, profile: object, interval: int, window: datetime
    ) -> None:
        producers = dict(
            zip([h.name for h in self.community.prosumers], market.producers, strict=True)
        )
        consumers = dict(
            zip([h.name for h in self.community.consumers], market.consumers, strict=True)
        )
        offers, bids = [], []
        for name, node in producers.items():
            surplus = profile.surplus_wh(name, interval)  # type: ignore[attr-defined]
            if surplus >= MIN_ORDER_WH:
                offers.append((node, surplus, self._rng.randint(*self.pricing.ask_range)))
        for name, node in consumers.items():
            deficit = profile.load_wh[name][interval]  # type: ignore[attr-defined]
            if deficit >= MIN_ORDER_WH:
                bids.append((node, deficit, self._rng.randint(*self.pricing.bid_range)))
        self.summary.intervals += 1
        await asyncio.gather(*(self._offer(node, wh, ask, window) for node, wh, ask in offers))
        await asyncio.gather(*(self._bid(node, wh, price, window) for node, wh, price in bids))
        if offers and bids:
            report = await market.operator.run(ClearMarketFlow(window_start=window), timeout=120)
            self.summary.flows += 1 + 3 * len(report.settlements)
            self.summary.add(report)

    async def _offer(self, node: MockNode, wh: int, ask: int, window: datetime) -> None:
        await node.run(
            RequestEnergyFlow(
                quantity_wh=wh, energy_type=EnergyType.SOLAR, window_start=window, price_per_kwh=ask
            ),
            timeout=120,
        )
        await node.run(
            PlaceOfferFlow(
                window_start=window,
                max_quantity_wh=wh,
                limit_price_per_kwh=ask,
                energy_type=EnergyType.SOLAR,
            ),
            timeout=120,
        )
        self.summary.issued_energy_wh += wh
        self.summary.offered_wh += wh
        self.summary.flows += 2

    async def _bid(self, node: MockNode, wh: int, price: int, window: datetime) -> None:
        await node.run(
            PlaceBidFlow(
                window_start=window,
                max_quantity_wh=wh,
                limit_price_per_kwh=price,
                energy_type=EnergyType.SOLAR,
            ),
            timeout=120,
        )
        self.summary.requested_wh += wh
        self.summary.flows += 1


@dataclass(frozen=True)
class Conservation:
    energy_in_vaults_wh: int
    money_in_vaults: int
    issued_energy_wh: int
    issued_money: int

    @property
    def holds(self) -> bool:
        return (
            self.energy_in_vaults_wh == self.issued_energy_wh
            and self.money_in_vaults == self.issued_money
        )


async def check_conservation(market: Market, summary: Summary) -> Conservation:
    """Sum every owner's energy and money across all vaults and compare with what was issued."""
    nodes = [market.operator, market.bank, *market.households]
    energy = sum([await holdings(node, EnergyState, "quantity_wh") for node in nodes])
    money = sum([await balance(node) for node in nodes])
    return Conservation(energy, money, summary.issued_energy_wh, summary.issued_money)


def format_summary(summary: Summary, conservation: Conservation, elapsed: float) -> str:
    prices = summary.prices
    price_line = (
        f"{min(prices)} / {mean(prices):.1f} / {max(prices)} ct/kWh" if prices else "no trades"
    )
    share = summary.cleared_wh / summary.offered_wh if summary.offered_wh else 0.0

    def verdict(ok: bool) -> str:
        return "OK" if ok else "FAILED"

    energy_ok = conservation.energy_in_vaults_wh == conservation.issued_energy_wh
    money_ok = conservation.money_in_vaults == conservation.issued_money
    rows = [
        ("intervals", f"{summary.intervals}"),
        ("energy offered", f"{summary.offered_wh / 1000:.1f} kWh"),
        ("energy bid for", f"{summary.requested_wh / 1000:.1f} kWh"),
        ("energy cleared", f"{summary.cleared_wh / 1000:.1f} kWh ({share:.1%} of offered)"),
        ("energy settled (DvP)", f"{summary.settled_wh / 1000:.1f} kWh"),
        ("failed settlements", f"{summary.failed_settlements}"),
        ("clearing price min/mean/max", price_line),
        ("social welfare", f"{summary.welfare / 100:.2f} EUR"),
        ("flows run", f"{summary.flows} in {elapsed:.1f} s ({summary.flows / elapsed:.1f}/s)"),
        (
            "energy conservation",
            f"{conservation.energy_in_vaults_wh} Wh in vaults = "
            f"{conservation.issued_energy_wh} Wh issued: {verdict(energy_ok)}",
        ),
        (
            "money conservation",
            f"{conservation.money_in_vaults} ct in vaults = {conservation.issued_money} ct issued: "
            f"{verdict(money_ok)}",
        ),
    ]
    return key_values(rows)
