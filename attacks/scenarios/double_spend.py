"""Double-spend race: conflicting spends of the same states, through disjoint replicas at once,
with f Byzantine replicas in every mode (and, with --allow-unsafe, f + 1).

Passes when no state ends with two notarised spends. At f + 1 the rows show what breaks:
equivocating replicas let both spends gather a quorum; crashed or silent ones stop the
cluster (no double spend, but nothing honest is notarised either).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from attacks.flows.race import MAX_REFS, RaceOutcome
from attacks.network import ACCOMPLICE, ATTACKER
from attacks.scenario import AttackContext, Latency, Row
from attacks.supply import attacker_coins

MODES = (
    "crash",
    "delay=1",
    "discard",
    "garbage-signatures",
    "false-conflict",
    "forged-refusal",
    "equivocate",
    "inject",
)
BATCH = 50
"""States one race flow spends twice each (at most `attacks.flows.race.MAX_REFS`)."""
TIMEOUT_MS = 3_000


@dataclass
class Race:
    attempts: int = 0
    doubles: int = 0
    single: int = 0
    neither: int = 0
    examples: tuple[str, ...] = ()

    def add(self, outcome: RaceOutcome) -> None:
        self.attempts += outcome.attempts
        self.doubles += len(outcome.double_notarised)
        self.single += outcome.single
        self.neither += outcome.neither
        shown = [f"state {ref} notarised twice" for ref in outcome.double_notarised]
        self.examples = (*self.examples, *shown)[:5]


def _named(mode: str, wanted: tuple[str, ...]) -> bool:
    return not wanted or mode.partition("=")[0] in wanted


class DoubleSpendRace:
    name = "double-spend"
    summary = "conflicting spends raced through disjoint replicas, f faulty in every mode"
    default_count = 540
    full_count = 10_000

    async def run(self, context: AttackContext) -> list[Row]:
        replicas = [m.slug for m in context.network.replicas]
        f = (len(replicas) - 1) // 3
        chosen = [m for m in MODES if _named(m, context.options.modes)]
        modes: list[str | None] = [None, *chosen] if f else [None]
        per_mode = max(1, math.ceil(context.count(self) / len(modes)))
        rows = []
        for mode in modes:
            faulty = context.rng.sample(replicas, f) if mode else []
            rows.append(await self._row(context, mode, faulty, per_mode, unsafe=False))
        return rows

    async def _row(
        self,
        context: AttackContext,
        mode: str | None,
        faulty: list[str],
        count: int,
        *,
        unsafe: bool,
    ) -> Row:
        label = "no faults" if mode is None else f"{mode} x{len(faulty)}"
        await context.set_byzantine({slug: mode for slug in faulty} if mode else {})
        coins = await attacker_coins(context.network, count)
        race = Race()
        with context.progress.counting(f"double-spend race, {label}", total=count) as counter:
            async with context.honest_load() as measured, context.rpc(ATTACKER) as attacker:
                for start in range(0, count, BATCH):
                    refs = coins[start : start + BATCH]
                    value = await attacker.run_flow(
                        "attack.RaceSpend",
                        {
                            "refs": refs,
                            "accomplice": ACCOMPLICE,
                            "seed": context.rng.getrandbits(63),
                            "timeout_ms": TIMEOUT_MS,
                        },
                    )
                    assert value is not None
                    race.add(value.decode())
                    for _ in refs:
                        counter.advance(note=f"{race.doubles} notarised twice")
            honest: Latency = measured()
        notes = (
            f"{race.single} spent once, {race.neither} spent by neither (the attacker burnt "
            "its own state)"
        )
        if unsafe:
            notes = f"f + 1 = {len(faulty)} faulty: {notes}"
        return Row(
            scenario=self.name,
            mode=label,
            attempts=race.attempts,
            accepted=race.doubles,
            honest=honest,
            baseline=context.baseline,
            notes=notes,
            accepted_what=race.examples,
            unsafe=unsafe,
            extra={"faulty": faulty, "single": race.single, "neither": race.neither},
        )


class DoubleSpendBeyondF(DoubleSpendRace):
    """The same race with f + 1 faulty replicas (`--allow-unsafe` only): what breaks.

    It runs after every other scenario, because what f + 1 faulty replicas break is not only
    the race: a payment that timed out after some honest replicas committed its input leaves
    that coin refused as a double spend for good, which would skew every later row."""

    name = "double-spend-unsafe"
    summary = "the same race with f + 1 faulty replicas (--allow-unsafe): what they break"
    default_count = 120
    full_count = 800

    async def run(self, context: AttackContext) -> list[Row]:
        if not context.options.allow_unsafe:
            return []
        replicas = [m.slug for m in context.network.replicas]
        f = (len(replicas) - 1) // 3
        chosen = [m for m in MODES if _named(m, context.options.modes)]
        per_mode = max(1, math.ceil(context.count(self) / max(1, len(chosen))))
        rows = []
        for mode in chosen:
            faulty = context.rng.sample(replicas, f + 1)
            rows.append(await self._row(context, mode, faulty, per_mode, unsafe=True))
        return rows


assert BATCH <= MAX_REFS
SCENARIO = DoubleSpendRace()
