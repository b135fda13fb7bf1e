"""Run the community interval by interval on a backend, journal each interval, and report.

Backends: the market engine in process (no ledger: a month in seconds, for comparing
mechanisms), the ledger in process (a MockNetwork, a node per household), or a running local
network through RPC. All three draw the same seeded readings and orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as daytime
from pathlib import Path
from typing import Protocol

from cordapp_energy.flows import IssuePaymentFlow
from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.simulator.economics import (
    InProcessMarket,
    Intent,
    IntervalOutcome,
    Pricing,
    Tariff,
    bills,
    intents,
)
from cordapp_energy.simulator.journal import Journal
from cordapp_energy.simulator.ledger import OPERATOR, LedgerMarket
from cordapp_energy.simulator.market import CURRENCY, Market, balance, holdings, open_market
from cordapp_energy.simulator.profiles import INTERVALS_PER_DAY, Community, DayProfile
from cordapp_energy.simulator.report import (
    Totals,
    bill_summary,
    day_table,
    plot,
    write_bills,
)
from cordapp_energy.states import DeliveryWindow, EnergyState
from dlt.cli.progress import Progress

OPENING_BALANCE = 1_000_000
"""Cents each household starts with (10,000 EUR): enough for a month of bids."""


DEFAULT_PRICING = Pricing()
DEFAULT_TARIFF = Tariff()


class Backend(Protocol):
    async def clear(
        self,
        day: int,
        interval: int,
        window: DeliveryWindow,
        profile: DayProfile,
        offers: Sequence[Intent],
        bids: Sequence[Intent],
    ) -> IntervalOutcome: ...


class EngineBackend:
    """The in-process market engine as a backend."""

    def __init__(self, mechanism: Mechanism) -> None:
        self.engine = InProcessMarket(mechanism)

    async def clear(
        self,
        day: int,
        interval: int,
        window: DeliveryWindow,
        profile: DayProfile,
        offers: Sequence[Intent],
        bids: Sequence[Intent],
    ) -> IntervalOutcome:
        return self.engine.clear(day, interval, offers, bids)


@dataclass
class RunResult:
    profiles: list[DayProfile]
    outcomes: list[IntervalOutcome]
    elapsed: float
    flows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.outcomes)


class Simulation:
    """Days of the community on one backend, journaled to `out/journal.jsonl`."""

    def __init__(
        self,
        community: Community,
        days: int,
        backend: Backend,
        journal: Journal,
        *,
        pricing: Pricing = DEFAULT_PRICING,
        progress: Progress | None = None,
        intervals: range = range(INTERVALS_PER_DAY),
    ) -> None:
        self.intervals = intervals
        self.community = community
        self.days = days
        self.backend = backend
        self.journal = journal
        self.pricing = pricing
        self.progress = progress or Progress(quiet=True)

    async def run(self) -> list[IntervalOutcome]:
        households = [h.name for h in self.community.households]
        seed = self.community.parameters.seed
        totals = Totals.of(self.journal.done.values())
        for day in range(self.days):
            profile = self.community.day(day)
            day_start = datetime.combine(profile.day, daytime(0), tzinfo=UTC)
            with self.progress.counting(
                f"Day {profile.day} ({profile.weather})", len(self.intervals)
            ) as count:
                for interval in self.intervals:
                    if (day, interval) not in self.journal.done:
                        offers, bids = intents(
                            profile, households, interval, self.pricing, seed, day
                        )
                        window = DeliveryWindow.slot(day_start, interval)
                        outcome = await self.backend.clear(
                            day, interval, window, profile, offers, bids
                        )
                        self.journal.record(outcome)
                        totals = Totals.of(self.journal.done.values())
                    count.advance(
                        f"offered {totals.offered_wh / 1000:,.0f} kWh, settled "
                        f"{totals.settled_wh / 1000:,.0f} kWh ({totals.traded_share:.1%})"
                    )
        return sorted(self.journal.done.values(), key=lambda o: (o.day, o.interval))


class MockLedgerBackend:
    """A MockNetwork with a node per household, the operator, the bank and a notary."""

    def __init__(self, base_dir: Path, community: Community, mechanism: Mechanism) -> None:
        self.base_dir = base_dir
        self.community = community
        self.mechanism = mechanism
        self.market: Market | None = None
        self.ledger: LedgerMarket | None = None

    async def open(self) -> LedgerMarket:
        prosumers = [h.name for h in self.community.prosumers]
        consumers = [h.name for h in self.community.consumers]
        market = await open_market(
            self.base_dir, prosumers, consumers, opening_balance=OPENING_BALANCE, meters=True
        )
        for producer in market.producers:
            await market.bank.run(
                IssuePaymentFlow(owner=producer.name, amount=OPENING_BALANCE, currency=CURRENCY)
            )
        await market.network.settle()
        self.market = market
        nodes = dict(zip([*prosumers, *consumers], market.households, strict=True))
        names = {household: str(node.name) for household, node in nodes.items()}
        meters = {h: market.meters[names[h]] for h in prosumers}

        async def call(who: str, flow: type, arguments: dict[str, object]) -> object:
            node = market.operator if who == OPERATOR else nodes[who]
            return await node.run(flow(**arguments), timeout=600)

        self.ledger = LedgerMarket(
            call, meters, names, market.notary.party, market.network.parameters.hash
        )
        return self.ledger

    async def clear(self, *args: object) -> IntervalOutcome:
        assert self.ledger is not None
        return await self.ledger.clear(*args)  # type: ignore[arg-type]

    async def conservation(self, issued_wh: int) -> list[str]:
        """Every vault summed: energy equals what was issued, money what the bank issued."""
        market = self.market
        assert market is not None
        await market.network.settle(timeout=60)
        nodes = [market.operator, market.bank, *market.households]
        energy = sum([await holdings(node, EnergyState, "quantity_wh") for node in nodes])
        money = sum([await balance(node) for node in nodes])
        issued_money = OPENING_BALANCE * len(market.households)

        def verdict(ok: bool) -> str:
            return "OK" if ok else "FAILED"

        return [
            f"energy conservation: {energy} Wh in vaults = {issued_wh} Wh issued: "
            f"{verdict(energy == issued_wh)}",
            f"money conservation: {money} ct in vaults = {issued_money} ct issued: "
            f"{verdict(money == issued_money)}",
        ]

    async def close(self) -> None:
        if self.market is not None:
            await self.market.stop()


def write_report(
    out: Path,
    title: str,
    community: Community,
    result: RunResult,
    tariff: Tariff = DEFAULT_TARIFF,
) -> str:
    """The run's tables as text (also written to out/report.txt), bills.csv and run.png."""
    households = [h.name for h in community.households]
    household_bills = bills(result.profiles, households, result.outcomes, tariff)
    totals = result.totals
    lines = [
        title,
        "",
        day_table(result.profiles, result.outcomes),
        "",
        f"Bills over the run against the grid (retail {tariff.retail_per_kwh} ct/kWh, "
        f"feed-in {tariff.feed_in_per_kwh} ct/kWh):",
        bill_summary(household_bills, [h.name for h in community.prosumers]),
        "",
        f"trades settled: {totals.trades}, failed settlements: {totals.failed}",
        f"wall time: {result.elapsed:.1f} s"
        + (
            f", {result.flows} flows ({result.flows / result.elapsed:.1f}/s)"
            if result.flows
            else ""
        ),
        *result.notes,
    ]
    text = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.txt").write_text(text + "\n")
    write_bills(out / "bills.csv", household_bills)
    plot(out / "run.png", result.profiles, result.outcomes, title)
    return text


def profiles_of(community: Community, days: int) -> list[DayProfile]:
    return [community.day(day) for day in range(days)]
