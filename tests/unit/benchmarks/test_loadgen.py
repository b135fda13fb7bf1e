"""The load generator's schedules, warm-up and recording, run in this process."""

from __future__ import annotations

import asyncio
import queue
import random
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.loadgen import Context, Driver, LoadRequest, Schedule, _Run, interleave
from benchmarks.measure import Latency


@dataclass
class Recording(Driver):
    """Counts calls and the most transactions it ever saw at once; fails when told."""

    mix: tuple[tuple[str, int], ...] = (("a", 1),)
    hold: float = 0.0
    fail: str | None = None
    calls: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    most: int = 0

    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        self.calls[label] += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.hold)
            if label == self.fail:
                raise RuntimeError(f"refused transaction {seq:032x}")
        finally:
            self.in_flight -= 1


def drive(driver: Driver, schedule: Schedule):
    request = LoadRequest(endpoints=(), driver=driver, schedule=schedule, components=())
    return asyncio.run(_Run(request, queue.Queue()).drive())


def test_interleaving_keeps_the_mix_in_every_hundred():
    mix = (("New-Order", 45), ("Payment", 43), ("Order-Status", 4), ("Delivery", 4), ("Stock", 4))

    order = interleave(mix, 300)

    for start in range(0, 300, 100):
        assert Counter(order[start : start + 100]) == {label: weight for label, weight in mix}


def test_warm_up_transactions_run_but_are_not_recorded():
    driver = Recording()

    result = drive(driver, Schedule(count=5, warmup=3, concurrency=2))

    assert driver.calls["a"] == 8
    assert result.types["a"].ok == 5
    assert Latency.of(result.overall).count == 5


def test_a_closed_loop_keeps_exactly_its_concurrency_in_flight():
    driver = Recording(hold=0.01)

    drive(driver, Schedule(count=20, warmup=0, concurrency=4))

    assert driver.most == 4


def test_waves_start_together_and_never_overlap():
    driver = Recording(hold=0.01)

    drive(driver, Schedule(mode="waves", count=9, warmup=0, concurrency=3))

    assert driver.most == 3
    assert driver.calls["a"] == 9


def test_open_loop_latency_counts_from_each_arrival_not_from_its_delayed_start():
    driver = Recording(hold=0.05)

    result = drive(driver, Schedule(mode="open", count=6, warmup=0, rate=100.0, max_in_flight=1))

    # Each transaction takes 50 ms, but the sixth arrival (due at 50 ms) waits for five.
    assert driver.most == 1
    assert Latency.of(result.overall).max_ms > 200


def test_failures_are_counted_per_type_with_one_message_for_the_same_failure():
    driver = Recording(mix=(("good", 1), ("bad", 1)), fail="bad")

    result = drive(driver, Schedule(count=10, warmup=0, concurrency=2))

    assert (result.types["good"].ok, result.types["good"].failed) == (5, 0)
    assert (result.types["bad"].ok, result.types["bad"].failed) == (0, 5)
    assert result.types["bad"].errors == {"RuntimeError: refused transaction …": 5}


def test_a_transaction_without_an_outcome_in_time_is_a_failure():
    driver = Recording(hold=1.0)

    result = drive(driver, Schedule(count=1, warmup=0, op_timeout=0.05))

    assert result.types["a"].failed == 1
    assert "no outcome within" in next(iter(result.types["a"].errors))
