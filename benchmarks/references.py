"""Published figures this harness compares against: quotations, typed in once, with sources.

None of these is measured here. They are quoted as shared/BRIEF.md quotes its sources; the
report prints each beside this run's own figure and says which kind of figure it is.
"""

from __future__ import annotations

from dataclasses import dataclass

BRIEF = "shared/BRIEF.md"
GRIDTOKENX = f"GridTokenX paper, as quoted in {BRIEF}, 'The Solana reference deployment'"
GRIDTOKENX_REAL = (
    f"GridTokenX's later runs on a real single Solana validator, as quoted in {BRIEF}, "
    "'The Solana reference deployment'"
)
CORDA = f"Corda's published figures, as quoted in {BRIEF}, 'Corda itself'"
CORDA_ENERGY = (
    f"Pradhan et al., Sensors 23 (2023) 670 (JVM Corda for P2P energy), as quoted in {BRIEF}, "
    "'The reference design'"
)
BESU_QUORUM = f"Besu (IBFT 2.0) vs GoQuorum (Raft), 5 nodes, as quoted in {BRIEF}, 'Other systems'"
BLOCKBENCH = f"BLOCKBENCH (SIGMOD 2017), as quoted in {BRIEF}, 'Other systems'"
FASTPAY = f"FastPay (AFT 2020), as quoted in {BRIEF}, 'The design anchor for notary clusters'"
ISSUE_12 = (
    "issue 12: measured on a clean checkout of main before any optimisation (2 cores; dlt "
    "localnet up, 2 producers, 2 consumers; an independent gRPC client running RequestAndPay)"
)
TARGETS = f"{BRIEF}, 'Targets this project holds itself to'"
ISSUE_9 = "issue 9, item 6: with f replicas crashed, within 30% of the healthy cluster"


@dataclass(frozen=True)
class Quote:
    """A published figure: `text` as the source gives it, `value` when it is one number."""

    text: str
    source: str
    value: float | None = None


SIMULATED = "published; its public code times sleeps (simulation mode), not transactions"
"""What the GridTokenX paper's headline figures are."""

GRIDTOKENX_PUBLISHED: dict[str, Quote] = {
    "setw.tpmc": Quote("2,111 tpmC", GRIDTOKENX, 2111),
    "setw.tps": Quote("76.85 TPS", GRIDTOKENX, 76.85),
    "setw.latency": Quote("mean 116.56, p50 112.57, p95 180.04, p99 215.54 ms", GRIDTOKENX, 116.56),
    "setw.success": Quote("99.78%", GRIDTOKENX, 0.9978),
    "blockbench.DoNothing": Quote(
        "225 TPS (single SOL transfers, in-process runtime)", GRIDTOKENX, 225
    ),
    "blockbench.CPUHeavy": Quote(
        "231 TPS (single SOL transfers, in-process runtime)", GRIDTOKENX, 231
    ),
    "blockbench.IOHeavy": Quote(
        "192 TPS (single SOL transfers, in-process runtime)", GRIDTOKENX, 192
    ),
    "ycsb.A": Quote("290 ops/s", GRIDTOKENX, 290),
    "ycsb.B": Quote("442 ops/s", GRIDTOKENX, 442),
    "ycsb.C": Quote("391 ops/s", GRIDTOKENX, 391),
    "smallbank": Quote("1,714 TPS at 5.83 ms", GRIDTOKENX, 1714),
    "trust-premium": Quote("58.28x (over a 2 ms centralised baseline)", GRIDTOKENX, 58.28),
    "trust-premium.baseline": Quote("2 ms centralised baseline", GRIDTOKENX, 2.0),
    "tpce": Quote("306 tpsE", GRIDTOKENX, 306),
}

GRIDTOKENX_REAL_VALIDATOR: dict[str, Quote] = {
    "real-validator.c=5": Quote("7.87 TPS", GRIDTOKENX_REAL, 7.87),
    "real-validator.c=10": Quote("18.74 TPS", GRIDTOKENX_REAL, 18.74),
    "real-validator.c=20": Quote("33.68 TPS", GRIDTOKENX_REAL, 33.68),
    "real-validator.c=40": Quote("74.25 TPS", GRIDTOKENX_REAL, 74.25),
    "real-validator.latency": Quote("510-570 ms mean latency", GRIDTOKENX_REAL),
    "meter-ingest": Quote("426-455 TPS", GRIDTOKENX_REAL),
    "order-entry": Quote("180 TPS", GRIDTOKENX_REAL, 180),
    "settlement": Quote("about 0.6 TPS", GRIDTOKENX_REAL, 0.6),
    "sql.order-entry": Quote("about 33k order entries/s (PostgreSQL)", GRIDTOKENX_REAL, 33_000),
    "sql.settle": Quote("about 1.4k settle-matches/s (PostgreSQL)", GRIDTOKENX_REAL, 1_400),
}

CORDA_PUBLISHED: dict[str, Quote] = {
    "notary.raft": Quote('OS Raft/Galera notaries "cannot handle more than 100-200 TPS"', CORDA),
    "notary.jpa": Quote("Enterprise JPA notary on CockroachDB: 1,600 states/s on 3 VMs", CORDA),
    "node": Quote("one Enterprise node sustained ~800 TPS", CORDA, 800),
    "memory": Quote("per node heap ~150-420 MB (JVM Corda, energy trading)", CORDA_ENERGY),
    "message-latency": Quote("send 22 ms / receive 51 ms average message latency", CORDA_ENERGY),
}

BESU_QUORUM_PUBLISHED: dict[str, Quote] = {
    "max-tps": Quote("max TPS mean 349.75 (Besu) vs 397.56 (Quorum)", BESU_QUORUM, 397.56),
    "reads": Quote("JSON-RPC reads 2,201 vs 2,306 req/s", BESU_QUORUM, 2306),
}

OTHER_PUBLISHED: dict[str, Quote] = {
    "blockbench.DoNothing": Quote(
        "Fabric 3,500 TPS at 45 ms; Ethereum 15 TPS at 13 s; Parity 140 TPS at 650 ms", BLOCKBENCH
    ),
    "smallbank": Quote("Fabric 400 TPS at 150 ms", BLOCKBENCH),
    "notary": Quote("FastPay: over 80,000 tx/s with 20 authorities (Rust, sharded)", FASTPAY),
}


@dataclass(frozen=True)
class BaselineRow:
    notary: str
    concurrency: int
    trades_per_s: float
    mean_ms: float
    p99_ms: float

    @property
    def replicas(self) -> int:
        return 1 if self.notary == "1 node" else 4


BASELINE_ISSUE_12: tuple[BaselineRow, ...] = (
    BaselineRow("1 node", 1, 11.9, 84, 155),
    BaselineRow("1 node", 32, 24.6, 1_175, 1_948),
    BaselineRow("4 replicas", 1, 7.1, 141, 1_235),
    BaselineRow("4 replicas", 32, 12.6, 2_341, 4_093),
)
"""The baseline table of issue 12, before any optimisation: the figures to improve on."""
BASELINE_CPU_MS_PER_TRADE = Quote(
    "about 130 ms of CPU per trade summed over all processes", ISSUE_12, 130
)


@dataclass(frozen=True)
class Goal:
    """A target this project holds itself to: `metric` of this run against `bound`."""

    name: str
    metric: str
    """Key of the figure in the report's `figures` (see benchmarks.report.figures)."""
    bound: float
    at_least: bool
    source: str


GOALS: tuple[Goal, ...] = (
    Goal("energy TPC-C mix, transactions/s", "setw.tps", 500, True, TARGETS),
    Goal("energy TPC-C mix, tpmC", "setw.tpmc", 13_500, True, TARGETS),
    Goal("notarised DvP mean latency (ms), c=1", "dvp.4.c=1.mean", 20, False, TARGETS),
    Goal("notarised DvP p99 latency (ms), c=1", "dvp.4.c=1.p99", 60, False, TARGETS),
    Goal("trust premium (x)", "trust-premium", 10, False, TARGETS),
    Goal("notary cluster, notarisations/s", "notary-only.4", 2_000, True, TARGETS),
    Goal("vault scale: slowest over fastest level", "vault-scale.ratio", 0.9, True, TARGETS),
    Goal("DvP, 4 replicas, c=32, trades/s", "dvp.4.c=32.tps", 100, True, ISSUE_12),
    Goal("DvP, 4 replicas, c=1, mean (ms)", "dvp.4.c=1.mean", 40, False, ISSUE_12),
    Goal("DvP, 4 replicas, c=1, p99 (ms)", "dvp.4.c=1.p99", 120, False, ISSUE_12),
    Goal("DvP, single notary, c=32, trades/s", "dvp.1.c=32.tps", 150, True, ISSUE_12),
    Goal("CPU per trade, all processes (ms)", "dvp.cpu", 15, False, ISSUE_12),
    Goal("idle node, % of a core (busiest)", "idle.max", 0.5, False, ISSUE_12),
    Goal(
        "f replicas killed, DvP c=8: throughput over healthy",
        "crashed-replica.c=8.tps_over_healthy",
        0.7,
        True,
        ISSUE_9,
    ),
    Goal(
        "f replicas killed, DvP c=8: mean latency over healthy",
        "crashed-replica.c=8.mean_over_healthy",
        1.3,
        False,
        ISSUE_9,
    ),
    Goal("notary-only, 4 replicas, notarisations/s", "notary-only.4", 1_000, True, ISSUE_12),
)
