"""The honest workload: what an attack costs users who are not attacking.

Consumer 1 pays Producer 1 one cent at a time, from a coin the bank issued it, in a closed
loop, each payment notarised by the cluster under attack and recorded by both. Its latency
while a scenario runs is compared with the same loop on the same network without an attack.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from attacks.network import BANK, CURRENCY, HONEST_PAYEE, HONEST_PAYER, AttackNetwork
from attacks.scenario import Latency
from dlt.rpc.client import RpcError

FUNDS = 1_000_000_000
"""Minor units the honest payer is issued: it never runs out."""
COINS = 8
"""How many coins FUNDS comes in: honest flows running at once each lock a coin of their
own instead of waiting for one another's change."""
PAYMENT = 1
BASELINE_OPS = 30
"""Honest payments the baseline measures before any attack."""
STOP_GRACE = 15.0
"""Seconds a payment in flight when a window closes may take to finish before the window
stops waiting for it (the flow itself goes on: an undecided spend is never abandoned)."""


def percentile(samples: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `samples` (None when there are none)."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency(samples_ms: list[float], failures: int = 0, unfinished: int = 0) -> Latency:
    return Latency(
        count=len(samples_ms),
        p50_ms=percentile(samples_ms, 0.50),
        p99_ms=percentile(samples_ms, 0.99),
        failures=failures,
        unfinished=unfinished,
    )


async def fund_honest_payer(network: AttackNetwork) -> None:
    async with network.rpc(BANK) as bank:
        for _ in range(COINS):
            await bank.run_flow(
                "energy.IssuePayment",
                {"owner": HONEST_PAYER, "amount": FUNDS // COINS, "currency": CURRENCY},
            )


class HonestLoad:
    """One payer paying in a loop until stopped; the payments' latencies in milliseconds."""

    def __init__(self, network: AttackNetwork) -> None:
        self.network = network
        self.samples_ms: list[float] = []
        self.failures = 0
        self.unfinished = 0
        self.errors: list[str] = []

    async def run(self, stop: asyncio.Event, limit: int | None = None) -> None:
        async with self.network.rpc(HONEST_PAYER) as payer:
            while not stop.is_set() and (limit is None or len(self.samples_ms) < limit):
                began = time.monotonic()
                try:
                    await payer.run_flow(
                        "energy.Pay",
                        {"recipient": HONEST_PAYEE, "amount": PAYMENT, "currency": CURRENCY},
                    )
                except RpcError as exc:
                    self.failures += 1
                    self.errors.append(str(exc))
                    await asyncio.sleep(0.2)
                    continue
                self.samples_ms.append((time.monotonic() - began) * 1000)

    def latency(self) -> Latency:
        return latency(self.samples_ms, self.failures, self.unfinished)


@asynccontextmanager
async def honest_load(network: AttackNetwork) -> AsyncIterator[Callable[[], Latency]]:
    """Pay honestly while the block runs; the callable gives the figures afterwards."""
    load = HonestLoad(network)
    stop = asyncio.Event()
    task = asyncio.create_task(load.run(stop))
    try:
        yield load.latency
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE)
        except TimeoutError:
            load.unfinished += 1
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def baseline(network: AttackNetwork, ops: int = BASELINE_OPS) -> Latency:
    """The honest workload alone: `ops` payments with every replica honest."""
    load = HonestLoad(network)
    await load.run(asyncio.Event(), limit=ops)
    return load.latency()
