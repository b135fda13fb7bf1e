"""How many transactions each workload runs: `make bench` (small), `make bench-full`, and the
few-transaction plan the test suite uses so the harness cannot rot."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    name: str
    warmup: int = 8
    """Warm-up transactions per point (at least one wave or one per worker is added)."""
    setw: int = 100
    setw_concurrency: int = 8
    waves: tuple[int, ...] = (5, 10, 20, 40)
    waves_count: int = 40
    """Transactions per wave size (at least two waves)."""
    dvp: dict[int, int] = field(default_factory=lambda: {1: 20, 8: 60, 32: 96})
    """Concurrency to measured trades."""
    crashed: dict[int, int] = field(default_factory=lambda: {1: 20, 8: 60})
    """Concurrency to measured trades with f replicas killed (4-replica networks only)."""
    open_rate: float = 2.0
    open_count: int = 40
    notary_concurrency: int = 32
    notary_count: int = 128
    blockbench_concurrency: int = 8
    blockbench_count: int = 40
    cpu_heavy_size: int = 100_000
    io_heavy_writes: int = 20
    ycsb_concurrency: int = 8
    ycsb_count: int = 80
    ycsb_records: int = 500
    smallbank_concurrency: int = 8
    smallbank_count: int = 80
    smallbank_accounts: int = 200
    sql: dict[int, int] = field(default_factory=lambda: {1: 200, 8: 400})
    vault_levels: tuple[int, ...] = (1_000, 10_000, 100_000)
    vault_concurrency: int = 8
    vault_count: int = 120
    idle_seconds: float = 10.0
    companion_dvp: dict[int, int] = field(default_factory=lambda: {1: 20, 32: 96})
    coins: int = 200
    """EUR coins each consumer starts with (more than any concurrency, so trades in flight
    never wait for one another's change)."""
    slots: int = 40
    """Slots per party node for DoNothing, CPUHeavy, IOHeavy and notary-only."""


SMALL = Plan(name="bench")

FULL = Plan(
    name="bench-full",
    warmup=40,
    setw=1_000,
    waves_count=500,
    dvp={1: 200, 8: 400, 32: 800},
    crashed={1: 200, 8: 400},
    open_rate=5.0,
    open_count=300,
    notary_count=1_000,
    blockbench_count=300,
    ycsb_count=500,
    ycsb_records=10_000,
    smallbank_count=500,
    smallbank_accounts=1_000,
    sql={1: 2_000, 8: 4_000},
    vault_levels=(1_000, 10_000, 100_000, 1_000_000),
    vault_count=200,
    idle_seconds=30.0,
    companion_dvp={1: 200, 32: 800},
    coins=400,
)

TINY = Plan(
    name="smoke",
    warmup=1,
    setw=10,
    setw_concurrency=2,
    waves=(2,),
    waves_count=4,
    dvp={1: 2, 4: 4},
    crashed={4: 4},
    open_rate=4.0,
    open_count=3,
    notary_concurrency=4,
    notary_count=4,
    blockbench_concurrency=2,
    blockbench_count=2,
    cpu_heavy_size=1_000,
    io_heavy_writes=3,
    ycsb_concurrency=2,
    ycsb_count=4,
    ycsb_records=20,
    smallbank_concurrency=2,
    smallbank_count=6,
    smallbank_accounts=10,
    sql={1: 5},
    vault_levels=(50, 120),
    vault_concurrency=2,
    vault_count=2,
    idle_seconds=1.0,
    companion_dvp={1: 2},
    coins=12,
    slots=6,
)
"""A few transactions of every workload: what the test suite runs."""

PLANS = {plan.name: plan for plan in (SMALL, FULL, TINY)}
