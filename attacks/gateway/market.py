"""One market window on a real local network: offers, bids, gate closure, clearing, surplus.

The book is the smallest one in which a producer gains by removing a competitor: the
adversary (Producer 1) offers up to 5 kWh at 10, Producer 2 offers 3 kWh at 8, and three
consumers bid. Honestly the window clears 6 kWh at 10 and the adversary sells 3 kWh; without
Producer 2's offer it clears 5 kWh at 14, all the adversary's. Orders are placed concurrently
and the market operator clears at gate closure, whatever is still in flight: an order an
adversary delays past it is lost to the window, as in the reference paper.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from deploy.localnet import Localnet, Member
from dlt.rpc.client import RpcClient

ADVERSARY = "producer-1"
COMPETITOR = "producer-2"
SIGMA2 = 1
"""The adversary's cost C(Q) = s2*Q^2 + s1*Q (minor units, Q in kWh), as in the paper; its
offer is at its marginal cost 2*s2*Q + s1 for its honest quantity (3 kWh -> 10)."""
SIGMA1 = 4


@dataclass(frozen=True)
class OrderSpec:
    party: str
    """The member's slug prefix, e.g. `consumer-1`."""
    side: str
    """`bid` or `offer`."""
    quantity_wh: int
    limit: int


BOOK: tuple[OrderSpec, ...] = (
    OrderSpec(ADVERSARY, "offer", 5000, 10),
    OrderSpec(COMPETITOR, "offer", 3000, 8),
    OrderSpec("consumer-1", "bid", 3000, 20),
    OrderSpec("consumer-2", "bid", 2000, 15),
    OrderSpec("consumer-3", "bid", 1000, 12),
)


@dataclass
class OrderOutcome:
    spec: OrderSpec
    status: str = "pending"
    """`recorded` (in time for gate closure), `late` (completed after it), `failed`, or
    `stuck` (still waiting when the run ended, then killed)."""
    seconds: float | None = None
    error: str | None = None


@dataclass
class MarketOutcome:
    window: str
    orders: list[OrderOutcome]
    clearing_price: int | None
    cleared_wh: int
    sold_wh: dict[str, int]
    bought_wh: dict[str, int]
    surplus: dict[str, float]
    """Each party's surplus at its limit price: (p - limit)·q for sellers, (limit - p)·q for
    buyers, minor units."""
    adversary_profit: float
    """p·Q - C(Q) for the adversary."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> list[OrderSpec]:
        return [o.spec for o in self.orders if o.status != "recorded"]

    def as_json(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "clearing_price": self.clearing_price,
            "cleared_wh": self.cleared_wh,
            "sold_wh": self.sold_wh,
            "bought_wh": self.bought_wh,
            "surplus": self.surplus,
            "adversary_profit": self.adversary_profit,
            "orders": [
                {
                    "party": o.spec.party,
                    "side": o.spec.side,
                    "quantity_wh": o.spec.quantity_wh,
                    "limit": o.spec.limit,
                    "status": o.status,
                    "seconds": o.seconds,
                    "error": o.error,
                }
                for o in self.orders
            ],
            **self.extra,
        }


def cost(quantity_wh: int) -> Fraction:
    q = Fraction(quantity_wh, 1000)
    return SIGMA2 * q * q + SIGMA1 * q


def paper_distortion(honest_wh: int, pi: float) -> float:
    """ΔQ^a = Q*(sqrt(1 + pi) - 1): the extra quantity the paper predicts for a profit gain pi."""
    return honest_wh * (math.sqrt(1 + pi) - 1)


class Market:
    """Drives market windows on the local network under `home` through its nodes' RPC."""

    def __init__(self, localnet: Localnet) -> None:
        self.localnet = localnet
        self._runs = 0

    def member(self, prefix: str) -> Member:
        for member in self.localnet.members:
            if member.slug.startswith(prefix):
                return member
        raise LookupError(f"no member {prefix} in {self.localnet.home}")

    def rpc(self, prefix: str) -> RpcClient:
        member = self.member(prefix)
        directory = self.localnet.node_dir(member)
        rpc = json.loads((directory / "rpc.json").read_text())
        ca = (directory / rpc["ca"]).read_bytes()
        return RpcClient(rpc["address"], rpc["username"], rpc["password"], ca, timeout=180.0)

    async def run(self, prefix: str, flow: str, arguments: dict[str, Any]) -> Any:
        async with self.rpc(prefix) as client:
            result = await client.run_flow(flow, arguments)
        return result.data if result is not None else None

    async def prepare(self) -> None:
        """Market rules and money, once per network."""
        bank = self.member("community-bank").name
        await self.run(
            "market-operator",
            "energy.PublishCommunityRules",
            {"payment_issuer": bank, "require_meter_readings": False},
        )
        for spec in BOOK:
            if spec.side == "bid":
                owner = self.member(spec.party).name
                await self.run(
                    "community-bank",
                    "energy.IssuePayment",
                    {"owner": owner, "amount": 1_000_000, "currency": "EUR"},
                )

    def next_window(self) -> str:
        """A fresh delivery window for each run: the next quarter hour plus one hour a run."""
        self._runs += 1
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        start = now + timedelta(minutes=15 - now.minute % 15, hours=self._runs + 1)
        return start.isoformat()

    async def window(
        self,
        *,
        gate_seconds: float,
        resubmit: bool,
        attack: Callable[[], Awaitable[None]] | None = None,
        before_clearing: Callable[[], Awaitable[None]] | None = None,
        linger_seconds: float = 40.0,
    ) -> MarketOutcome:
        """Issue energy, place the book (the adversary's own offer first, then `attack()`
        arms the adversary, then everyone else at once), clear at gate closure."""
        window = self.next_window()
        for spec in BOOK:
            if spec.side == "offer":
                await self.run(
                    spec.party,
                    "energy.RequestEnergy",
                    {
                        "quantity_wh": spec.quantity_wh,
                        "energy_type": "solar",
                        "window_start": window,
                        "price_per_kwh": spec.limit,
                    },
                )
        outcomes = [OrderOutcome(spec) for spec in BOOK]
        first, *rest = outcomes
        await self._place(first, window, resubmit, deadline=math.inf)
        if attack is not None:
            await attack()
        opened = time.monotonic()
        gate = opened + gate_seconds
        tasks = [
            asyncio.ensure_future(self._place(o, window, resubmit, deadline=gate)) for o in rest
        ]
        await asyncio.wait(tasks, timeout=max(0.0, gate - time.monotonic()))
        if before_clearing is not None:
            await before_clearing()
        report = await self.run("market-operator", "energy.ClearMarket", {"window_start": window})
        # What was in flight finishes (late) or fails; what never will is stuck, and killed.
        await asyncio.wait(tasks, timeout=linger_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return self._outcome(window, outcomes, report)

    async def _place(
        self, outcome: OrderOutcome, window: str, resubmit: bool, deadline: float
    ) -> None:
        spec = outcome.spec
        arguments: dict[str, Any] = {
            "window_start": window,
            "max_quantity_wh": spec.quantity_wh,
            "limit_price_per_kwh": spec.limit,
            "energy_type": "solar",
        }
        if not resubmit:
            arguments["resubmit_after"] = None
        flow = "energy.PlaceBid" if spec.side == "bid" else "energy.PlaceOffer"
        started = time.monotonic()
        async with self.rpc(spec.party) as client:
            run = await client.start_flow(flow, arguments)
            try:
                await run.result()
            except asyncio.CancelledError:
                outcome.status, outcome.error = "stuck", "never finished; killed"
                await client.kill_flow(run.flow_id)
            except Exception as exc:
                outcome.status, outcome.error = "failed", str(exc).splitlines()[0][:200]
            else:
                outcome.status = "recorded" if time.monotonic() <= deadline else "late"
            finally:
                outcome.seconds = round(time.monotonic() - started, 2)

    def _outcome(
        self, window: str, orders: list[OrderOutcome], report: dict[str, Any] | None
    ) -> MarketOutcome:
        report = report or {}
        price = report.get("clearing_price")
        slug_of = {m.name: m.slug for m in self.localnet.members}
        sold: dict[str, int] = {}
        bought: dict[str, int] = {}
        for s in report.get("settlements", ()):
            if s.get("tx_id") is None:
                continue
            seller, buyer = _party(slug_of[s["seller"]]), _party(slug_of[s["buyer"]])
            sold[seller] = sold.get(seller, 0) + s["quantity_wh"]
            bought[buyer] = bought.get(buyer, 0) + s["quantity_wh"]
        limits = {spec.party: spec.limit for spec in BOOK}
        surplus: dict[str, float] = {}
        for spec in BOOK:
            q = sold.get(spec.party, 0) if spec.side == "offer" else bought.get(spec.party, 0)
            gain = (price or 0) - limits[spec.party]
            signed = gain if spec.side == "offer" else -gain
            surplus[spec.party] = float(Fraction(q * signed, 1000))
        q_adv = sold.get(ADVERSARY, 0)
        profit = Fraction(q_adv * (price or 0), 1000) - cost(q_adv)
        return MarketOutcome(
            window=window,
            orders=orders,
            clearing_price=price,
            cleared_wh=report.get("cleared_wh", 0),
            sold_wh=sold,
            bought_wh=bought,
            surplus=surplus,
            adversary_profit=float(profit),
            extra={
                "social_welfare": report.get("social_welfare"),
                "settlement_errors": [
                    s["error"] for s in report.get("settlements", ()) if s.get("error")
                ],
            },
        )


def _party(slug: str) -> str:
    """`producer-2-leeds-gb` -> `producer-2`."""
    for spec in BOOK:
        if slug.startswith(spec.party + "-") or slug == spec.party:
            return spec.party
    return slug


def localnet_at(home: Path) -> Localnet:
    return Localnet(home)
