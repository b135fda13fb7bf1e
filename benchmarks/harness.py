"""A benchmark session on one network: seeding helpers, measured points, progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.loadgen import Driver, LoadRequest, Schedule, run_load
from benchmarks.measure import Measurement, measurement
from benchmarks.network import BenchNetwork, Component, Endpoint

T = TypeVar("T")


def progress_display(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


class Harness:
    """Measures points on `network` and keeps them in `results`."""

    def __init__(
        self, network: BenchNetwork, label: str, progress: Progress, console: Console
    ) -> None:
        self.network = network
        self.label = label
        self.progress = progress
        self.console = console
        self.results: list[Measurement] = []
        self.steps: list[tuple[str, float]] = []
        """Each seeding step and each measured point with its wall time, warm-up included."""
        self.endpoints = {endpoint.slug: endpoint for endpoint in network.endpoints}

    def say(self, text: str) -> None:
        self.console.log(text)

    def _note(self, text: str) -> None:
        """A line in the log when there is no live progress display (not a terminal)."""
        if not self.console.is_terminal:
            self.console.log(text)

    def role(self, role: str) -> list[Endpoint]:
        return sorted((e for e in self.endpoints.values() if e.role == role), key=lambda e: e.slug)

    @property
    def operator(self) -> Endpoint:
        return self.role("market-operator")[0]

    @property
    def bank(self) -> Endpoint:
        return self.role("payment-issuer")[0]

    @property
    def consumers(self) -> list[Endpoint]:
        return self.role("consumer")

    @property
    def producers(self) -> list[Endpoint]:
        return self.role("producer")

    @property
    def parties(self) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.role != "notary"]

    @property
    def replicas(self) -> list[Endpoint]:
        return self.role("notary")

    def setup(self, what: str, work: Coroutine[Any, Any, T] | Callable[[], T]) -> T:
        """Run seeding work (not measured), a coroutine or a function, showing it as a step."""
        task = self.progress.add_task(f"{self.label}: {what}", total=None)
        self._note(f"{self.label}: {what}")
        started = time.monotonic()
        try:
            return asyncio.run(work) if asyncio.iscoroutine(work) else work()  # type: ignore[operator]
        finally:
            self.steps.append((f"{self.label}: {what}", time.monotonic() - started))
            self.progress.update(task, total=1, completed=1)

    def measure(
        self,
        workload: str,
        point: str,
        driver: Driver,
        schedule: Schedule,
        parameters: dict[str, Any] | None = None,
        components: list[Component] | None = None,
    ) -> Measurement:
        """Run one point in a load generator process and record its figures; CPU is counted
        for the network's processes, or for `components` when given."""
        components = components if components is not None else self.network.components()
        task = self.progress.add_task(f"{self.label}: {workload} {point} (warm-up)", total=None)

        def on_progress(phase: str, done: int, total: int) -> None:
            self.progress.update(
                task,
                description=f"{self.label}: {workload} {point} ({phase})",
                completed=done,
                total=total,
            )

        request = LoadRequest(
            endpoints=tuple(self.endpoints.values()),
            driver=driver,
            schedule=schedule,
            components=tuple(components),
            metrics=tuple((e.slug, e.metrics_port) for e in self.endpoints.values()),
        )
        deadline = 120 + (schedule.count + schedule.warmup) * schedule.op_timeout
        started = time.monotonic()
        result = run_load(request, on_progress, deadline)
        self.steps.append((f"{self.label}: {workload} {point}", time.monotonic() - started))
        topology = self.network.topology
        figures = measurement(
            workload=workload,
            point=point,
            network=topology.describe(),
            schedule=schedule,
            parameters={
                "replicas": topology.replicas,
                "notaries": topology.notaries,
                "database": topology.database,
                "concurrency": schedule.concurrency,
                **(parameters or {}),
            },
            result=result,
            components=components,
            replicas=[r.slug for r in self.replicas],
            roles={e.slug: e.role for e in self.endpoints.values()},
        )
        self.results.append(figures)
        summary = (
            f"{self.label}: {workload} {point}: {figures.throughput_tps:.1f}/s, "
            f"mean {figures.latency.mean_ms:.0f} ms, {figures.success_rate:.1%} ok"
        )
        self.progress.update(task, description=summary)
        self._note(summary)
        return figures
