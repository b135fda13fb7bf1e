"""The load generator: a process of its own that drives the nodes through their gRPC RPC.

Three schedules:
- closed loop: `concurrency` workers, each starting its next transaction when the last ends;
- open loop: arrivals at `rate` per second whatever the system does, latency measured from
  each arrival's due time (so a slow system is not excused by arrivals it delayed);
- waves: `concurrency` transactions at once, the next wave when all have ended (the
  reference deployment's "500 transactions in waves of c").

`warmup` transactions run first under the same schedule and are not recorded. Latencies go
into HDR histograms (microseconds, 3 significant digits) per transaction type. CPU time of
every component and the notary replicas' counters are read at the start and end of the
measured window, in this process, so they cover exactly that window.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import random
import re
import time
import traceback
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hdrh.histogram import HdrHistogram

from benchmarks import procfs
from benchmarks.network import Component, Endpoint
from benchmarks.prometheus import Scrape, scrape
from dlt.rpc.client import RpcClient

Mode = Literal["closed", "open", "waves"]
HIGHEST_US = 3_600_000_000
LOAD_GENERATOR = "load generator"


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, 3)


class WorkloadError(RuntimeError):
    """A transaction ended but not as it should: a settlement failed, a read found nothing."""


class LoadGeneratorError(RuntimeError):
    """The load generator failed or overran its time; the message carries its error."""


@dataclass(frozen=True)
class Schedule:
    mode: Mode = "closed"
    count: int = 100
    """Measured transactions."""
    warmup: int = 10
    concurrency: int = 1
    rate: float = 0.0
    """Open loop: arrivals per second."""
    max_in_flight: int = 512
    op_timeout: float = 180.0

    def describe(self) -> str:
        if self.mode == "open":
            shape = f"open loop at {self.rate:g}/s"
        elif self.mode == "waves":
            shape = f"waves of {self.concurrency}"
        else:
            shape = f"closed loop, concurrency {self.concurrency}"
        return f"{shape}; {self.count} measured after {self.warmup} warm-up"


class Context:
    """What drivers use in the load generator: one RPC channel per node, shared by workers."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.endpoints = {endpoint.slug: endpoint for endpoint in endpoints}
        self._clients: dict[str, RpcClient] = {}

    def by_role(self, role: str) -> list[Endpoint]:
        return sorted((e for e in self.endpoints.values() if e.role == role), key=lambda e: e.slug)

    def rpc(self, slug: str) -> RpcClient:
        client = self._clients.get(slug)
        if client is None:
            e = self.endpoints[slug]
            client = RpcClient(e.address, e.username, e.password, e.ca_pem, timeout=120.0)
            self._clients[slug] = client
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


class Driver(ABC):
    """A workload as the load generator runs it: a mix of transaction types (integer
    weights) and how to run one of each. Drivers are pickled into the load generator."""

    mix: tuple[tuple[str, int], ...] = ()

    async def prepare(self, ctx: Context) -> None:  # noqa: B027 - most drivers need nothing
        """Open what the runs need (called once in the load generator)."""

    @abstractmethod
    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        """Run one transaction of type `label`; raise if it failed."""

    async def close(self) -> None:  # noqa: B027 - most drivers hold nothing
        """Release what `prepare` or the runs opened."""


def interleave(mix: Sequence[tuple[str, int]], total: int) -> list[str]:
    """`total` labels in the mix's proportions, spread evenly (smooth weighted round robin):
    any stretch of the sequence holds each type close to its share."""
    weights = [weight for _, weight in mix]
    current = [0] * len(mix)
    order = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        best = max(range(len(mix)), key=lambda i: current[i])
        current[best] -= sum(weights)
        order.append(mix[best][0])
    return order


@dataclass
class TypeOutcome:
    ok: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    histogram: bytes = b""


@dataclass
class Snapshot:
    at: float
    usage: procfs.Usage
    scrapes: dict[str, Scrape]


@dataclass
class LoadResult:
    seconds: float
    types: dict[str, TypeOutcome]
    overall: bytes
    before: Snapshot
    after: Snapshot


@dataclass(frozen=True)
class LoadRequest:
    endpoints: tuple[Endpoint, ...]
    driver: Driver
    schedule: Schedule
    components: tuple[Component, ...]
    metrics: tuple[tuple[str, int], ...] = ()
    """Name and metrics port of each process whose counters to read (the replicas)."""
    seed: int = 42


_IDS = re.compile(r"[0-9a-f]{32,}")


def _error_text(exc: BaseException) -> str:
    """One line, with ids blanked so the same failure counts as one."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _IDS.sub("…", f"{type(exc).__name__}: {text}")[:240]


class _Recorder:
    def __init__(self, labels: Sequence[str]) -> None:
        self.histograms = {label: new_histogram() for label in labels}
        self.overall = new_histogram()
        self.outcomes = {label: TypeOutcome() for label in labels}
        self.last_done = 0.0

    def record(self, label: str, started: float, error: BaseException | None) -> None:
        now = time.perf_counter()
        self.last_done = now
        outcome = self.outcomes[label]
        if error is not None:
            outcome.failed += 1
            outcome.errors[_error_text(error)] += 1
            return
        outcome.ok += 1
        micros = max(1, round((now - started) * 1_000_000))
        self.histograms[label].record_value(micros)
        self.overall.record_value(micros)


RunOne = Callable[[int, int, float | None], Awaitable[None]]


async def _closed(seqs: range, concurrency: int, run_one: RunOne) -> None:
    pending = iter(seqs)

    async def worker(index: int) -> None:
        for seq in pending:
            await run_one(seq, index, None)

    await asyncio.gather(*(worker(i) for i in range(max(1, min(concurrency, len(seqs))))))


async def _waves(seqs: range, size: int, run_one: RunOne) -> None:
    for start in range(0, len(seqs), size):
        wave = seqs[start : start + size]
        await asyncio.gather(*(run_one(seq, i, None) for i, seq in enumerate(wave)))


async def _open(seqs: range, rate: float, limit: int, run_one: RunOne) -> None:
    gate = asyncio.Semaphore(limit)
    begin = time.perf_counter()
    tasks = []

    async def arrive(seq: int, due: float) -> None:
        async with gate:
            await run_one(seq, seq % limit, due)

    for n, seq in enumerate(seqs):
        due = begin + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(arrive(seq, due)))
    await asyncio.gather(*tasks)


class _Run:
    """One load generator run, in the load generator's process."""

    def __init__(self, request: LoadRequest, events: Any) -> None:
        self.request = request
        self.events = events
        self.ctx = Context(request.endpoints)
        schedule = request.schedule
        self.labels = interleave(request.driver.mix, schedule.warmup + schedule.count)
        self.recorder: _Recorder | None = None
        self.done = 0
        self._last_report = 0.0

    def _progress(self, phase: str, total: int) -> None:
        now = time.monotonic()
        if self.done == total or now - self._last_report > 0.2:
            self._last_report = now
            self.events.put(("progress", phase, self.done, total))

    async def _one(self, seq: int, worker: int, due: float | None, phase: str, total: int) -> None:
        label = self.labels[seq]
        started = time.perf_counter() if due is None else due
        rng = random.Random(self.request.seed * 1_000_003 + seq)
        error: BaseException | None = None
        try:
            await asyncio.wait_for(
                self.request.driver.run(label, self.ctx, rng, seq, worker),
                self.request.schedule.op_timeout,
            )
        except TimeoutError:
            error = TimeoutError(f"no outcome within {self.request.schedule.op_timeout:g} s")
        except Exception as exc:  # every failure of a transaction is a result to count
            error = exc
        if self.recorder is not None:
            self.recorder.record(label, started, error)
        self.done += 1
        self._progress(phase, total)

    async def _phase(self, seqs: range, phase: str) -> None:
        schedule = self.request.schedule
        self.done = 0

        async def run_one(seq: int, worker: int, due: float | None) -> None:
            await self._one(seq, worker, due, phase, len(seqs))

        if not seqs:
            return
        if schedule.mode == "open":
            await _open(seqs, schedule.rate, schedule.max_in_flight, run_one)
        elif schedule.mode == "waves":
            await _waves(seqs, schedule.concurrency, run_one)
        else:
            await _closed(seqs, schedule.concurrency, run_one)

    async def _snapshot(self) -> Snapshot:
        request = self.request

        def read() -> Snapshot:
            usage = procfs.sample(request.components, {LOAD_GENERATOR: os.getpid()})
            scrapes = {name: scrape(port) for name, port in request.metrics}
            return Snapshot(time.perf_counter(), usage, scrapes)

        return await asyncio.to_thread(read)

    async def drive(self) -> LoadResult:
        request, schedule = self.request, self.request.schedule
        driver = request.driver
        await driver.prepare(self.ctx)
        try:
            await self._phase(range(schedule.warmup), "warm-up")
            before = await self._snapshot()
            self.recorder = recorder = _Recorder([label for label, _ in driver.mix])
            started = time.perf_counter()
            await self._phase(range(schedule.warmup, schedule.warmup + schedule.count), "measured")
            ended = recorder.last_done or time.perf_counter()
            after = await self._snapshot()
        finally:
            await driver.close()
            await self.ctx.close()
        for label, histogram in recorder.histograms.items():
            recorder.outcomes[label].histogram = histogram.encode()
        return LoadResult(
            seconds=max(ended - started, 1e-9),
            types=recorder.outcomes,
            overall=recorder.overall.encode(),
            before=before,
            after=after,
        )


def _child(request: LoadRequest, events: Any) -> None:
    try:
        result = asyncio.run(_Run(request, events).drive())
    except BaseException as exc:
        events.put(("error", f"{_error_text(exc)}\n{traceback.format_exc()}"))
        return
    events.put(("result", result))


Progress = Callable[[str, int, int], None]


def run_load(request: LoadRequest, on_progress: Progress, deadline: float) -> LoadResult:
    """Run `request` in a new load generator process; wait at most `deadline` seconds."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    process = context.Process(target=_child, args=(request, events), name="dlt-loadgen")
    process.start()
    give_up = time.monotonic() + deadline
    try:
        while True:
            try:
                kind, *payload = events.get(timeout=0.5)
            except queue.Empty:
                if not process.is_alive():
                    raise LoadGeneratorError(
                        f"the load generator exited with code {process.exitcode} without a result"
                    ) from None
                if time.monotonic() > give_up:
                    raise LoadGeneratorError(
                        f"the load generator did not finish within {deadline:.0f} s"
                    ) from None
                continue
            if kind == "progress":
                on_progress(*payload)
            elif kind == "error":
                raise LoadGeneratorError(payload[0])
            else:
                result: LoadResult = payload[0]
                return result
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=10)
