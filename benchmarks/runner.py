"""One harness run: start a network, seed it, measure every chosen workload, stop it; again
on a companion network with the other notary size; then write the report and the plots."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from benchmarks.harness import Harness, progress_display
from benchmarks.measure import Measurement
from benchmarks.network import BenchNetwork, Database, Topology
from benchmarks.plan import Plan
from benchmarks.plots import draw_all
from benchmarks.report import RunInfo, write
from benchmarks.workloads import COMPANION, WORKLOADS, Run, Workload, prepare

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Options:
    plan: Plan
    replicas: int = 4
    notaries: int = 1
    database: Database = "sqlite"
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    companion: bool = True
    out: Path | None = None
    conditions: str = ""
    command: str = field(
        default_factory=lambda: shlex.join(["python", "-m", "benchmarks", *sys.argv[1:]])
    )


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory_gb": memory_kb / 2**20,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_before": _load(),
    }


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _selected(workloads: dict[str, Workload], options: Options) -> list[tuple[str, Workload]]:
    return [
        (name, work)
        for name, work in workloads.items()
        if (not options.only or name in options.only) and name not in options.skip
    ]


class _Session:
    def __init__(self, options: Options, run: Run, console: Console, base: Path) -> None:
        self.options = options
        self.run = run
        self.console = console
        self.base = base
        self.results: list[Measurement] = []
        self.networks: list[str] = []
        self.failures: list[dict[str, str]] = []
        self.steps: list[tuple[str, float]] = []

    def on(
        self,
        topology: Topology,
        label: str,
        workloads: Iterable[tuple[str, Workload]],
        progress: Any,
    ) -> None:
        """Start a network of `topology`, run `workloads` on it, and stop it whatever happens."""
        workloads = list(workloads)
        if not workloads:
            return
        postgres = self.run.cluster() if topology.database == "postgresql" else None
        network = BenchNetwork(
            self.base / label.replace(" ", "-"), topology, self.console.log, postgres
        )
        self.networks.append(topology.describe())
        started = time.monotonic()
        try:
            network.start()
            self.steps.append((f"{label}: starting the network", time.monotonic() - started))
            harness = Harness(network, label, progress, self.console)
            try:
                prepare(harness, self.run, [name for name, _ in workloads])
                for name, work in workloads:
                    try:
                        work(harness, self.run)
                    except Exception as exc:  # one broken workload must not hide the others
                        self._failed(name, topology, exc)
            finally:
                self.results += harness.results
                self.steps += harness.steps
        except Exception as exc:
            self._failed("network", topology, exc)
        finally:
            network.stop()

    def _failed(self, workload: str, topology: Topology, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:400]
        self.failures.append({"workload": workload, "network": topology.describe(), "error": text})
        self.console.log(f"[red]{workload} failed on {topology.describe()}: {text}")


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every network started is stopped again."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def run_harness(options: Options, console: Console | None = None) -> Path:
    """Run the benchmark; returns the directory holding report.json, report.md and plots."""
    console = console or Console(stderr=True)
    started = datetime.now(UTC)
    out = options.out or RESULTS / started.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    run = Run(options.plan)
    base = Path(tempfile.mkdtemp(prefix="dlt-bench-"))
    session = _Session(options, run, console, base)
    main = Topology(replicas=options.replicas, notaries=options.notaries, database=options.database)
    other = Topology(
        replicas=1 if options.replicas != 1 else 4,
        notaries=options.notaries,
        database=options.database,
    )
    _stop_on_sigterm()
    try:
        with progress_display(console) as progress:
            session.on(main, _label(main), _selected(WORKLOADS, options), progress)
            if options.companion:
                session.on(other, _label(other), _selected(COMPANION, options), progress)
    finally:
        if run.postgres is not None:
            run.postgres.stop()
        shutil.rmtree(base, ignore_errors=True)
    machine["load_after"] = _load()
    plots = draw_all(session.results, out)
    info = RunInfo(
        started=started.isoformat(timespec="seconds"),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        plan=options.plan.name,
        machine=machine,
        conditions=options.conditions
        or "not stated; other work may have shared this machine (see the load averages)",
        networks=session.networks,
        command=options.command,
        idle=run.idle,
        failures=session.failures,
        plots=[path.name for path in plots],
        steps=session.steps,
    )
    write(out, info, session.results)
    if options.out is None:
        latest = RESULTS / "latest"
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(out.name)
    return out


def _label(topology: Topology) -> str:
    return "single notary" if topology.replicas == 1 else f"{topology.replicas} replicas"
