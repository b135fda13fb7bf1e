"""The workloads: what each seeds (not measured) and which points it measures.

Every workload runs on the network the harness started, through the nodes' RPC, with the
load generator in its own process. Order matters only for vault scale, which grows the
vaults of two parties and therefore runs last.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from benchmarks import procfs, prometheus, seeding
from benchmarks.drivers.energy import (
    REAL_VALIDATOR_MIX,
    SETW_MIX,
    DvpDriver,
    SetwDriver,
    trade_window,
    window_start,
)
from benchmarks.drivers.ledger import FlowDriver, SmallbankDriver, YcsbDriver
from benchmarks.drivers.sql import SqlDvpDriver, create_schema
from benchmarks.harness import Harness
from benchmarks.loadgen import Schedule, interleave
from benchmarks.measure import Measurement
from benchmarks.network import Endpoint, postgres_component
from benchmarks.plan import Plan
from dlt.testing.postgres import PostgresCluster

COIN_AMOUNT = 10_000


@dataclass
class Run:
    """What workloads of one harness run share: the plan, a PostgreSQL cluster started on
    first use (the trust premium's baseline), and fresh delivery days for each workload."""

    plan: Plan
    postgres: PostgresCluster | None = None
    _day: int = 0
    idle: dict[str, dict[str, float]] = field(default_factory=dict)

    def next_day(self) -> int:
        self._day += 1
        return self._day

    def cluster(self) -> PostgresCluster:
        if self.postgres is None:
            self.postgres = PostgresCluster.start()
        return self.postgres


Workload = Callable[[Harness, Run], None]


def _closed(count: int, concurrency: int, warmup: int) -> Schedule:
    return Schedule(
        mode="closed", count=count, warmup=max(warmup, concurrency), concurrency=concurrency
    )


@dataclass(frozen=True)
class OwnStates:
    """States of the benchmark CorDapp that nodes issue themselves, for the workloads that
    spend them: a run seeds only what its chosen workloads use (records and accounts take
    about a minute)."""

    flow: str
    label: str
    count: Callable[[Plan], int]
    used_by: frozenset[str]
    traders_only: bool


OWN_STATES = (
    OwnStates(
        "bench.IssueSlots",
        "slots",
        lambda p: p.slots,
        frozenset({"notary-only", "blockbench"}),
        False,
    ),
    OwnStates(
        "bench.IssueRecords", "YCSB records", lambda p: p.ycsb_records, frozenset({"ycsb"}), True
    ),
    OwnStates(
        "bench.OpenAccounts",
        "Smallbank accounts",
        lambda p: p.smallbank_accounts,
        frozenset({"smallbank"}),
        True,
    ),
)


def own_states_for(workloads: Iterable[str]) -> list[OwnStates]:
    """The kinds of own states that the named workloads spend."""
    chosen = set(workloads)
    return [kind for kind in OWN_STATES if kind.used_by & chosen]


def prepare(h: Harness, run: Run, workloads: Iterable[str]) -> None:
    """What the chosen workloads rely on: market rules and money always, and each kind of
    the benchmark CorDapp's own states that one of them uses."""
    plan = run.plan
    h.setup("publishing market rules", seeding.publish_rules(h.operator, h.bank))
    h.setup(
        f"issuing {plan.coins} coins to each consumer",
        seeding.fund(h.bank, h.consumers, plan.coins, COIN_AMOUNT),
    )
    wanted = own_states_for(workloads)
    if not wanted:
        return

    async def own_states(node: Endpoint) -> None:
        trader = node.role in ("producer", "consumer")
        for kind in wanted:
            if trader or not kind.traders_only:
                await seeding.issue_own(node, kind.flow, kind.count(plan))

    async def every_node() -> None:
        await asyncio.gather(*(own_states(node) for node in h.parties))

    h.setup(f"issuing {', '.join(kind.label for kind in wanted)}", every_node())


def _pairs(h: Harness) -> tuple[tuple[str, str], ...]:
    return tuple((c.slug, p.name) for c, p in zip(h.consumers, h.producers, strict=False))


def dvp(h: Harness, run: Run, points: dict[int, int] | None = None) -> None:
    """The notarised delivery-versus-payment trade (RequestAndPay) at each concurrency."""
    driver = DvpDriver(pairs=_pairs(h), window=trade_window(run.next_day()))
    for concurrency, count in (points or run.plan.dvp).items():
        h.measure("dvp", f"c={concurrency}", driver, _closed(count, concurrency, run.plan.warmup))


def crashed_replica(h: Harness, run: Run) -> None:
    """The DvP trade with f replicas of the cluster killed, beside the same trade on the
    healthy cluster: issue 9 asks for throughput and latency within 30% of healthy."""
    topology = h.network.topology
    faulty = (topology.replicas - 1) // 3
    if faulty == 0:
        h.say(f"{h.label}: crashed-replica needs a BFT cluster (f >= 1); skipped")
        return
    points = run.plan.crashed
    healthy = {c: _find(h, "dvp", f"c={c}") for c in points}
    missing = {c: n for c, n in points.items() if healthy[c] is None}
    if missing:
        dvp(h, run, missing)
        healthy = {c: _find(h, "dvp", f"c={c}") for c in points}
    killed = [r.slug for r in h.replicas[-faulty:]]
    for slug in killed:
        h.setup(f"killing replica {slug}", lambda slug=slug: h.network.crash(slug))
    try:
        driver = DvpDriver(pairs=_pairs(h), window=trade_window(run.next_day()))
        for concurrency, count in points.items():
            figures = h.measure(
                "crashed-replica",
                f"c={concurrency}",
                driver,
                _closed(count, concurrency, run.plan.warmup),
                {"crashed": killed},
            )
            ref = healthy[concurrency]
            if ref is not None and ref.throughput_tps > 0:
                figures.extra["tps_over_healthy"] = figures.throughput_tps / ref.throughput_tps
            if ref is not None and ref.latency.mean_ms > 0:
                figures.extra["mean_over_healthy"] = figures.latency.mean_ms / ref.latency.mean_ms
    finally:
        h.setup(f"restarting {', '.join(killed)}", h.network.recover)


def dvp_open(h: Harness, run: Run) -> None:
    """The same trade arriving at a fixed rate (open loop), latency from each arrival."""
    plan = run.plan
    driver = DvpDriver(pairs=_pairs(h), window=trade_window(run.next_day()))
    schedule = Schedule(mode="open", count=plan.open_count, warmup=plan.warmup, rate=plan.open_rate)
    h.measure("dvp-open", f"{plan.open_rate:g}/s", driver, schedule)


def _setw_driver(h: Harness, run: Run, mix: tuple[tuple[str, int], ...], total: int) -> SetwDriver:
    """A SETW driver on a delivery day of its own, with energy for every window it fills."""
    base = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=run.next_day())
    driver = SetwDriver(
        consumers=tuple((c.slug, c.name) for c in h.consumers),
        producers=tuple((p.slug, p.name) for p in h.producers),
        operator=h.operator.slug,
        base=base,
        mix=mix,
    )
    orders = interleave(mix, total).count("New-Order")
    windows = [
        window_start(base, i) for i in range(math.ceil(orders / driver.orders_per_window) + 1)
    ]
    h.setup(
        f"issuing energy for {len(windows)} delivery windows",
        seeding.energy_for_windows(h.producers, windows),
    )
    return driver


def setw(h: Harness, run: Run) -> None:
    """SETW: the reference's TPC-C mapping; tpmC counts successful New-Orders per minute."""
    plan = run.plan
    schedule = _closed(plan.setw, plan.setw_concurrency, plan.warmup)
    driver = _setw_driver(h, run, SETW_MIX, schedule.warmup + schedule.count)
    figures = h.measure("setw", f"c={plan.setw_concurrency}", driver, schedule)
    new_orders = figures.types["New-Order"].ok
    figures.extra["tpmC"] = new_orders / figures.seconds * 60


def real_validator(h: Harness, run: Run) -> None:
    """The reference's real-validator shape: 50% New-Order, 50% Payment, in waves of c."""
    plan = run.plan
    for size in plan.waves:
        count = max(plan.waves_count, 2 * size)
        schedule = Schedule(mode="waves", count=count, warmup=size, concurrency=size)
        driver = _setw_driver(h, run, REAL_VALIDATOR_MIX, schedule.warmup + schedule.count)
        h.measure("real-validator", f"c={size}", driver, schedule)


def _parties(h: Harness) -> tuple[str, ...]:
    return tuple(e.slug for e in h.parties)


def notary_only(h: Harness, run: Run) -> None:
    """Notarisations per second: DoNothing transactions (one input, no counterparty) from
    every party at once; the replicas' own counters give commits and batch sizes."""
    plan = run.plan
    driver = FlowDriver(label="notarisation", flow="bench.DoNothing", nodes=_parties(h))
    replicas = h.network.topology.replicas
    h.measure(
        "notary-only",
        f"{replicas} replica{'s' if replicas > 1 else ''}",
        driver,
        _closed(plan.notary_count, plan.notary_concurrency, plan.warmup),
        {"replicas": replicas},
    )


def blockbench(h: Harness, run: Run) -> None:
    """BLOCKBENCH's layers: consensus (DoNothing), execution (CPUHeavy), data (IOHeavy)."""
    plan = run.plan
    nodes = _parties(h)
    points = [
        ("DoNothing", "bench.DoNothing", {}),
        ("CPUHeavy", "bench.CpuHeavy", {"size": plan.cpu_heavy_size}),
        ("IOHeavy", "bench.IoHeavy", {"writes": plan.io_heavy_writes}),
    ]
    schedule = _closed(plan.blockbench_count, plan.blockbench_concurrency, plan.warmup)
    for label, flow, arguments in points:
        driver = FlowDriver(label=label, flow=flow, nodes=nodes, arguments=arguments)
        h.measure("blockbench", label, driver, schedule, arguments)


def _traders(h: Harness) -> tuple[str, ...]:
    return tuple(e.slug for e in [*h.producers, *h.consumers])


def ycsb(h: Harness, run: Run) -> None:
    """YCSB A (50/50), B (95/5) and C (read only) over key-value states."""
    plan = run.plan
    schedule = _closed(plan.ycsb_count, plan.ycsb_concurrency, plan.warmup)
    for workload in ("A", "B", "C"):
        driver = YcsbDriver(workload=workload, nodes=_traders(h), records=plan.ycsb_records)
        h.measure("ycsb", workload, driver, schedule, {"records_per_node": plan.ycsb_records})


def smallbank(h: Harness, run: Run) -> None:
    """Smallbank's standard mix over account states."""
    plan = run.plan
    driver = SmallbankDriver(nodes=_traders(h), accounts=plan.smallbank_accounts)
    schedule = _closed(plan.smallbank_count, plan.smallbank_concurrency, plan.warmup)
    h.measure(
        "smallbank",
        f"c={plan.smallbank_concurrency}",
        driver,
        schedule,
        {"accounts_per_node": plan.smallbank_accounts},
    )


def _find(h: Harness, workload: str, point: str) -> Measurement | None:
    return next((m for m in h.results if (m.workload, m.point) == (workload, point)), None)


def trust_premium(h: Harness, run: Run) -> None:
    """The same DvP as one PostgreSQL transaction on a plain schema, same run, same machine;
    premium = the ledger trade's mean latency at c=1 over the baseline's."""
    plan = run.plan
    ledger = _find(h, "dvp", "c=1")
    if ledger is None:
        dvp(h, run, {1: plan.dvp.get(1, 20)})
        ledger = _find(h, "dvp", "c=1")
    assert ledger is not None
    cluster = run.cluster()
    database = f"trust_baseline_{run.next_day()}"
    conninfo = cluster.create_database(database).replace("postgresql+psycopg://", "postgresql://")
    consumers = [c.name for c in h.consumers]
    h.setup(
        "creating the plain SQL schema with the same coins",
        lambda: create_schema(conninfo, h.bank.name, consumers, plan.coins, COIN_AMOUNT),
    )
    pairs = tuple((c.name, p.name) for c, p in zip(h.consumers, h.producers, strict=False))
    driver = SqlDvpDriver(conninfo=conninfo, pairs=pairs, window=datetime(2030, 1, 1, tzinfo=UTC))
    counted = [postgres_component(cluster)]
    for concurrency, count in plan.sql.items():
        schedule = _closed(count, concurrency, plan.warmup)
        point = f"SQL c={concurrency}"
        figures = h.measure("trust-premium", point, driver, schedule, components=counted)
        if concurrency == 1 and figures.latency.mean_ms > 0:
            figures.extra["trust_premium"] = ledger.latency.mean_ms / figures.latency.mean_ms
            figures.extra["ledger_mean_ms"] = ledger.latency.mean_ms
            figures.extra["ledger_p99_ms"] = ledger.latency.p99_ms


def vault_scale(h: Harness, run: Run) -> None:
    """DvP throughput with 10^3, 10^4, 10^5 (10^6 in bench-full) states already in the
    vaults of the two trading parties."""
    plan = run.plan
    consumer, producer = h.consumers[0], h.producers[0]
    driver = DvpDriver(pairs=((consumer.slug, producer.name),), window=trade_window(run.next_day()))
    schedule = _closed(plan.vault_count, plan.vault_concurrency, plan.warmup)
    for level in plan.vault_levels:
        sizes = h.setup(
            f"filling two vaults to {level:,} states",
            seeding.fill_vaults(h.bank, [consumer, producer], level),
        )
        figures = h.measure(
            "vault-scale", f"{level:,} states", driver, schedule, {"vault_states": sizes}
        )
        figures.extra["states"] = float(level)


QUIET_TIMEOUT = 60.0
"""Seconds the idle workload waits for the flows of earlier workloads to finish."""


def _flows_in_flight(h: Harness) -> float:
    return sum(
        prometheus.scrape(e.metrics_port).get("dlt_flows_in_flight", 0.0)
        for e in h.endpoints.values()
    )


def idle(h: Harness, run: Run) -> None:
    """Each process's CPU with no load at all: the cost of a network doing nothing. It
    waits first (up to QUIET_TIMEOUT) until no node runs a flow left from earlier work."""

    def quiet() -> float:
        deadline = time.monotonic() + QUIET_TIMEOUT
        while (running := _flows_in_flight(h)) > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        return running

    still_running = h.setup("waiting for earlier flows to finish", quiet)
    if still_running:
        h.say(f"{still_running:g} flows still ran after {QUIET_TIMEOUT:g} s; idle includes them")
    components = h.network.components()
    before, started = procfs.sample(components), time.monotonic()
    task = h.progress.add_task(f"{h.label}: idle for {run.plan.idle_seconds:g} s", total=None)
    time.sleep(run.plan.idle_seconds)
    after, seconds = procfs.sample(components), time.monotonic() - started
    h.progress.update(task, total=1, completed=1)
    used = procfs.cpu_seconds(before, after)
    run.idle[h.label] = {name: 100 * cpu / seconds for name, cpu in used.items()}


WORKLOADS: dict[str, Workload] = {
    "setw": setw,
    "real-validator": real_validator,
    "dvp": dvp,
    "crashed-replica": crashed_replica,
    "dvp-open": dvp_open,
    "notary-only": notary_only,
    "blockbench": blockbench,
    "ycsb": ycsb,
    "smallbank": smallbank,
    "trust-premium": trust_premium,
    "idle": idle,
    "vault-scale": vault_scale,
}
"""In the order they run; vault scale grows two vaults, so it comes last."""

COMPANION: dict[str, Workload] = {
    "dvp": lambda h, run: dvp(h, run, run.plan.companion_dvp),
    "notary-only": notary_only,
}
"""What runs again on the companion network (the other notary size, 1 or 4 replicas)."""
