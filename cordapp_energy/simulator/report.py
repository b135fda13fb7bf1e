"""What a simulation run reports: per day and in total, the households' bills, the mechanism
comparison table, and a PNG of supply, demand, price and welfare."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cordapp_energy.simulator.economics import Bill, IntervalOutcome
from cordapp_energy.simulator.profiles import INTERVALS_PER_DAY, DayProfile


@dataclass
class Totals:
    """Sums over a set of intervals; energy in Wh, welfare in 1/1000 cent."""

    offered_wh: int = 0
    bid_wh: int = 0
    cleared_wh: int = 0
    settled_wh: int = 0
    value: int = 0
    """Σ q·price over settled trades (Wh x cents/kWh), for the volume-weighted mean price."""
    welfare_milli: int = 0
    buyer_surplus_milli: int = 0
    seller_surplus_milli: int = 0
    failed: int = 0
    trades: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[IntervalOutcome]) -> Totals:
        totals = cls()
        for o in outcomes:
            totals.offered_wh += o.offered_wh
            totals.bid_wh += o.bid_wh
            totals.cleared_wh += o.cleared_wh
            totals.settled_wh += o.settled_wh
            totals.welfare_milli += o.welfare_milli
            totals.buyer_surplus_milli += o.buyer_surplus_milli
            totals.seller_surplus_milli += o.seller_surplus_milli
            totals.failed += o.failed_settlements
            totals.trades += len(o.trades)
            totals.value += sum(t.quantity_wh * t.price for t in o.trades)
        return totals

    @property
    def traded_share(self) -> float:
        """Settled energy as a share of the energy offered (the literature's '% traded')."""
        return self.settled_wh / self.offered_wh if self.offered_wh else 0.0

    @property
    def mean_price(self) -> float | None:
        return self.value / self.settled_wh if self.settled_wh else None


def _kwh(wh: int) -> str:
    return f"{wh / 1000:,.1f}"


def _eur(milli: int) -> str:
    return f"{milli / 100_000:,.2f}"


def _price(totals: Totals) -> str:
    return "-" if totals.mean_price is None else f"{totals.mean_price:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(
            f"{cell:>{w}}" if i else f"{cell:<{w}}"
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


DAY_HEADER = (
    "day",
    "weather",
    "offered kWh",
    "bid kWh",
    "cleared kWh",
    "settled kWh",
    "traded",
    "price ct/kWh",
    "welfare EUR",
)


def _day_row(label: str, weather: str, totals: Totals) -> list[str]:
    return [
        label,
        weather,
        _kwh(totals.offered_wh),
        _kwh(totals.bid_wh),
        _kwh(totals.cleared_wh),
        _kwh(totals.settled_wh),
        f"{totals.traded_share:.2%}",
        _price(totals),
        _eur(totals.welfare_milli),
    ]


def day_table(profiles: Sequence[DayProfile], outcomes: Sequence[IntervalOutcome]) -> str:
    """Per day and in total: energy offered, bid, cleared, settled, % traded, price, welfare."""
    rows = []
    for index, profile in enumerate(profiles):
        day = Totals.of(o for o in outcomes if o.day == index)
        rows.append(_day_row(str(profile.day), profile.weather, day))
    days = f"{len(profiles)} day" + ("s" if len(profiles) != 1 else "")
    rows.append(_day_row("total", days, Totals.of(outcomes)))
    return _table(DAY_HEADER, rows)


def bill_summary(bills: Mapping[str, Bill], prosumers: Sequence[str]) -> str:
    """The households' bills against the grid, summed per group, with the spread of savings."""
    rows = []
    groups = {
        "prosumers": [b for n, b in bills.items() if n in prosumers],
        "consumers": [b for n, b in bills.items() if n not in prosumers],
    }
    for group, members in groups.items():
        if not members:
            continue
        grid = sum(b.grid_only for b in members)
        community = sum(b.community for b in members)
        savings = sorted(b.saving for b in members)
        rows.append(
            [
                f"{group} ({len(members)})",
                f"{grid / 100:,.2f}",
                f"{community / 100:,.2f}",
                f"{(grid - community) / 100:,.2f}",
                f"{savings[0] / 100:,.2f} / {savings[len(savings) // 2] / 100:,.2f} / "
                f"{savings[-1] / 100:,.2f}",
            ]
        )
    header = ("households", "grid-only EUR", "community EUR", "saved EUR", "saving min/median/max")
    return _table(header, rows)


def write_bills(path: Path, bills: Mapping[str, Bill]) -> None:
    """Every household's bill, one CSV row each, in cents and Wh."""
    fields = [
        "household",
        "bought_wh",
        "sold_wh",
        "imported_wh",
        "exported_wh",
        "paid",
        "received",
        "grid_only",
        "community",
        "saving",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for bill in bills.values():
            writer.writerow([getattr(bill, name) for name in fields])


COMPARISON_HEADER = (
    "mechanism",
    "cleared kWh",
    "traded",
    "mean price ct/kWh",
    "welfare EUR",
    "buyers' surplus EUR",
    "sellers' surplus EUR",
    "households' saving EUR",
)


def comparison_table(runs: Mapping[str, tuple[Totals, Mapping[str, Bill]]]) -> str:
    """The mechanisms side by side on the same month."""
    rows = [
        [
            name,
            _kwh(totals.settled_wh),
            f"{totals.traded_share:.2%}",
            _price(totals),
            _eur(totals.welfare_milli),
            _eur(totals.buyer_surplus_milli),
            _eur(totals.seller_surplus_milli),
            f"{sum(b.saving for b in bills.values()) / 100:,.2f}",
        ]
        for name, (totals, bills) in runs.items()
    ]
    return _table(COMPARISON_HEADER, rows)


def plot(
    path: Path, profiles: Sequence[DayProfile], outcomes: Sequence[IntervalOutcome], title: str
) -> None:
    """Supply and demand per interval, the clearing price, and welfare per day, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_slot = {(o.day, o.interval): o for o in outcomes}
    slots = [(d, i) for d in range(len(profiles)) for i in range(INTERVALS_PER_DAY)]
    hours = [d * 24 + i / 4 for d, i in slots]

    def series(attribute: str) -> list[float]:
        return [getattr(by_slot[s], attribute) / 1000 if s in by_slot else 0.0 for s in slots]

    prices = []
    for s in slots:
        o = by_slot.get(s)
        settled = o.settled_wh if o else 0
        prices.append(
            sum(t.quantity_wh * t.price for t in o.trades) / settled
            if o and settled
            else float("nan")
        )
    figure, (energy, price, welfare) = plt.subplots(3, 1, figsize=(12, 9), sharex=False)
    energy.plot(hours, series("offered_wh"), label="offered (supply)", linewidth=0.8)
    energy.plot(hours, series("bid_wh"), label="bid (demand)", linewidth=0.8)
    energy.plot(hours, series("settled_wh"), label="settled", linewidth=0.8)
    energy.set_ylabel("kWh per 15 min")
    energy.legend(loc="upper right")
    energy.set_title(textwrap.fill(title, 110), fontsize=10)
    price.plot(hours, prices, ".", markersize=2)
    price.set_ylabel("price ct/kWh")
    price.set_xlabel("hours since the first day began")
    days = [str(p.day) for p in profiles]
    welfare.bar(
        days,
        [
            Totals.of(o for o in outcomes if o.day == d).welfare_milli / 100_000
            for d in range(len(profiles))
        ],
    )
    welfare.set_ylabel("welfare EUR per day")
    welfare.tick_params(axis="x", rotation=90, labelsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
