"""Crash soak: SIGKILL random processes (parties, one replica at a time, the broker, the
network map) at random moments while trades run, restarting each as an operator would.

Consumer 1 buys energy from the two producers (RequestAndPay: issuance and payment in one
delivery-versus-payment transaction) until `count` trades completed, starting again any that
failed. Passes when every started flow finishes (none stuck after its node is back), and the
vaults show exactly the completed trades: energy and money moved once per trade, none lost or
created, the bank's issued money conserved across every party.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from attacks.holdings import holdings
from attacks.honest import latency
from attacks.network import BANK, HONEST_PAYER, OPERATOR
from attacks.scenario import AttackContext, Row
from deploy.localnet import LocalnetError
from dlt.rpc.client import FlowFailedError, FlowStatus, RpcError

SELLERS = ("O=Producer 1, L=Leeds, C=GB", "O=Producer 2, L=Leeds, C=GB")
QUANTITY_WH = 1_000
PRICE_PER_KWH = 12
COST = QUANTITY_WH * PRICE_PER_KWH // 1_000
CONCURRENCY = 3
FINISH_WITHIN = 180.0
"""Seconds a started flow may take, its node's restarts included, before it counts as stuck."""
MAX_ATTEMPTS = 8
"""Times one trade is started again after failing before the soak calls it lost."""
PAUSE = (1.5, 4.0)
"""Seconds between one restart and the next kill."""


@dataclass
class Soak:
    completed: list[str] = field(default_factory=list)
    failed: int = 0
    stuck: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    kills: Counter[str] = field(default_factory=Counter)
    per_seller: Counter[str] = field(default_factory=Counter)


class CrashSoak:
    name = "crash-soak"
    summary = "kill -9 parties, a replica, the broker and the map through trades; exactly once"
    default_count = 300
    full_count = 1_000

    async def run(self, context: AttackContext) -> list[Row]:
        count = context.count(self)
        parties = [m.name for m in context.localnet.members if not m.is_notary]
        before = await _everyone(context, parties)
        soak = Soak()
        done = asyncio.Event()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)
        with context.progress.counting("crash soak trades", total=count) as counter:
            killer = asyncio.create_task(_killer(context, soak, done))
            traders = asyncio.gather(
                *(_trader(context, soak, queue, counter) for _ in range(CONCURRENCY))
            )
            try:
                await asyncio.wait({killer, traders}, return_when=asyncio.FIRST_COMPLETED)
                if killer.done():
                    traders.cancel()
                    killer.result()  # the killer ends early only by failing: say why
                await traders
            finally:
                done.set()
                await asyncio.gather(killer, return_exceptions=True)
        await asyncio.to_thread(context.localnet.up, context.shape, lambda _: None)
        after = await _everyone(context, parties)
        problems = _conservation(before, after, soak)
        problems += soak.stuck
        killed = ", ".join(f"{c} x{n}" for c, n in sorted(soak.kills.items()))
        return [
            Row(
                scenario=self.name,
                mode=f"{sum(soak.kills.values())} kills",
                attempts=count,
                accepted=len(problems),
                honest=latency(soak.latencies_ms, soak.failed),
                baseline=context.baseline,
                notes=f"{len(soak.completed)} trades completed ({soak.failed} failed and were "
                f"started again); killed: {killed}",
                accepted_what=tuple(problems[:5]),
                extra={"kills": dict(soak.kills), "trades": dict(soak.per_seller)},
            )
        ]


async def _everyone(context: AttackContext, parties: list[str]) -> dict[str, Counter[str]]:
    found = {}
    for name in parties:
        async with context.rpc(name) as client:
            found[name] = await holdings(client, name)
    return found


def _conservation(
    before: dict[str, Counter[str]], after: dict[str, Counter[str]], soak: Soak
) -> list[str]:
    """Exactly the completed trades moved energy and money; nothing else changed."""
    expected = {name: Counter(held) for name, held in before.items()}
    for seller, trades in soak.per_seller.items():
        expected[HONEST_PAYER]["money"] -= trades * COST
        expected[HONEST_PAYER]["energy_wh"] += trades * QUANTITY_WH
        expected[seller]["money"] += trades * COST
    problems = []
    for name in before:
        for asset in ("money", "energy_wh"):
            if after[name][asset] != expected[name][asset]:
                problems.append(
                    f"{name} holds {after[name][asset]} {asset}, expected "
                    f"{expected[name][asset]} after {len(soak.completed)} trades"
                )
    total_before = sum(h["money"] for h in before.values())
    total_after = sum(h["money"] for h in after.values())
    if total_before != total_after:
        problems.append(f"money across all vaults went from {total_before} to {total_after}")
    return problems


async def _trader(
    context: AttackContext, soak: Soak, queue: asyncio.Queue[int], counter: object
) -> None:
    while True:
        try:
            n = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        seller = SELLERS[n % len(SELLERS)]
        attempts = 0
        while True:
            began = time.monotonic()
            outcome = await _trade(context, seller)
            if outcome == "completed":
                soak.latencies_ms.append((time.monotonic() - began) * 1000)
                soak.completed.append(seller)
                soak.per_seller[seller] += 1
                counter.advance(note=f"{sum(soak.kills.values())} kills")  # type: ignore[attr-defined]
                break
            if outcome.startswith("stuck"):
                soak.stuck.append(outcome)
                break
            if outcome == "not started":  # the buyer's node is down: wait for it
                await asyncio.sleep(1.0)
                continue
            soak.failed += 1
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                soak.stuck.append(f"a trade with {seller} failed {attempts} times: {outcome}")
                break
            await asyncio.sleep(1.0)


async def _trade(context: AttackContext, seller: str) -> str:
    """Start one trade and follow it to its end across restarts of the buyer's node."""
    arguments = {
        "producer": seller,
        "quantity_wh": QUANTITY_WH,
        "energy_type": "solar",
        "window_start": "2026-06-01T12:00:00+00:00",
        "price_per_kwh": PRICE_PER_KWH,
    }
    try:
        async with context.rpc(HONEST_PAYER) as buyer:
            run = await buyer.start_flow("energy.RequestAndPay", arguments)
            flow_id = run.flow_id
            try:
                await run.result()
                return "completed"
            except FlowFailedError as exc:
                return f"failed: {exc.error_type}: {exc.remote_message}"
            except RpcError:
                pass  # the buyer's node went away mid-flow: follow the flow once it is back
    except RpcError:
        return "not started"
    deadline = time.monotonic() + FINISH_WITHIN
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        try:
            async with context.rpc(HONEST_PAYER) as buyer:
                info = await buyer.flow_status(flow_id)
        except RpcError:
            continue
        if info.status is FlowStatus.COMPLETED:
            return "completed"
        if info.status in (FlowStatus.FAILED, FlowStatus.KILLED):
            return f"failed: {info.error_type}: {info.error_message}"
    return f"stuck: trade flow {flow_id} with {seller} unfinished after {FINISH_WITHIN:.0f} s"


async def _killer(context: AttackContext, soak: Soak, done: asyncio.Event) -> None:
    """Kill one process at a time at a random moment, then bring it back."""
    rng = context.rng
    replicas = [m.slug for m in context.network.replicas]
    parties = [context.network.member(n).slug for n in (HONEST_PAYER, *SELLERS, BANK, OPERATOR)]
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), timeout=rng.uniform(*PAUSE))
            return
        except TimeoutError:
            pass
        kind = rng.choice(["party", "party", "replica", "broker", "networkmap"])
        if kind == "party":
            victim = rng.choice(parties)
        elif kind == "replica":
            victim = rng.choice(replicas)
        else:
            victim = kind
        try:
            context.localnet.kill(victim)
        except LocalnetError as exc:
            context.progress.step(f"could not kill {victim}: {exc}")
            continue
        soak.kills[victim] += 1
        context.progress.step(f"killed {victim} (kill -9)")
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        await asyncio.to_thread(context.localnet.up, context.shape, lambda _: None)
        context.progress.step(f"{victim} restarted")


SCENARIO = CrashSoak()
