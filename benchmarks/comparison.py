"""The report's comparison tables: this run beside the published figures, beside the
baseline of issue 12, and against the goals. Figures of ours come from `figures()` and the
measurements; everything else from `benchmarks.references`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from benchmarks.measure import Measurement
from benchmarks.references import (
    BASELINE_CPU_MS_PER_TRADE,
    BASELINE_ISSUE_12,
    BESU_QUORUM_PUBLISHED,
    CORDA_PUBLISHED,
    GOALS,
    GRIDTOKENX_PUBLISHED,
    GRIDTOKENX_REAL_VALIDATOR,
    ISSUE_12,
    OTHER_PUBLISHED,
    SIMULATED,
)

INFRASTRUCTURE = ("broker", "networkmap", "postgresql", "load generator")
"""Processes that are not nodes, left out of per-node figures."""


def find(
    results: Iterable[Measurement],
    workload: str,
    point: str | None = None,
    replicas: int | None = None,
) -> Measurement | None:
    for m in results:
        if m.workload != workload or (point is not None and m.point != point):
            continue
        if replicas is None or m.parameters.get("replicas") == replicas:
            return m
    return None


def figures(results: Sequence[Measurement], idle: dict[str, dict[str, float]]) -> dict[str, float]:
    """The headline figures of this run by key (the goals refer to these keys)."""
    found: dict[str, float] = {}
    for m in results:
        replicas = m.parameters.get("replicas")
        if m.workload == "setw":
            found["setw.tps"] = m.throughput_tps
            found["setw.tpmc"] = m.extra.get("tpmC", 0.0)
            found["order-entry"] = m.types["New-Order"].throughput_tps
            found["settlement"] = m.types["Delivery"].throughput_tps
        elif m.workload == "dvp":
            key = f"dvp.{replicas}.{m.point}"
            found[f"{key}.tps"] = m.throughput_tps
            found[f"{key}.mean"] = m.latency.mean_ms
            found[f"{key}.p99"] = m.latency.p99_ms
        elif m.workload == "crashed-replica":
            for key in ("tps_over_healthy", "mean_over_healthy"):
                if key in m.extra:
                    found[f"crashed-replica.{m.point}.{key}"] = m.extra[key]
        elif m.workload == "notary-only":
            found[f"notary-only.{replicas}"] = m.throughput_tps
        elif m.workload == "trust-premium" and "trust_premium" in m.extra:
            found["trust-premium"] = m.extra["trust_premium"]
    trades = [m for m in results if m.workload == "dvp" and m.parameters.get("replicas") == 4]
    if trades:
        busiest = max(trades, key=lambda m: m.parameters.get("concurrency", 0))
        found["dvp.cpu"] = busiest.cpu_ms_per_tx.get("total", 0.0)
    levels = [m.throughput_tps for m in results if m.workload == "vault-scale"]
    if len(levels) >= 2 and max(levels) > 0:
        found["vault-scale.ratio"] = min(levels) / max(levels)
    nodes = [p for per in idle.values() for n, p in per.items() if n not in INFRASTRUCTURE]
    if nodes:
        found["idle.max"] = max(nodes)
    return found


def tps(value: float) -> str:
    return f"{value:,.1f}/s" if value < 100 else f"{value:,.0f}/s"


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def latency(m: Measurement | None) -> str:
    if m is None:
        return "not run"
    lat = m.latency
    return (
        f"mean {ms(lat.mean_ms)}, p50 {ms(lat.p50_ms)}, p95 {ms(lat.p95_ms)}, p99 {ms(lat.p99_ms)}"
    )


def rate(m: Measurement | None, with_latency: bool = False) -> str:
    if m is None:
        return "not run"
    text = tps(m.throughput_tps)
    return f"{text} at mean {ms(m.latency.mean_ms)}" if with_latency else text


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


COLUMNS = (
    "Workload",
    "Metric",
    "This run (measured)",
    f"GridTokenX published ({SIMULATED})",
    "GridTokenX real validator (real transactions)",
    "Corda (published)",
    "Besu / Quorum (published)",
    "Others (published)",
)


def _row(
    workload: str,
    metric: str,
    ours: str,
    published: str = "",
    real: str = "",
    corda: str = "",
    besu: str = "",
    others: str = "",
) -> list[str]:
    return [workload, metric, ours] + [
        cell or "—" for cell in (published, real, corda, besu, others)
    ]


def _text(quotes: dict, key: str) -> str:  # type: ignore[type-arg]
    quote = quotes.get(key)
    return quote.text if quote else ""


def side_by_side(results: Sequence[Measurement], found: dict[str, float]) -> list[str]:
    """This run beside every published figure the brief quotes, one comparison a row."""
    pub, real, corda = GRIDTOKENX_PUBLISHED, GRIDTOKENX_REAL_VALIDATOR, CORDA_PUBLISHED
    besu, other = BESU_QUORUM_PUBLISHED, OTHER_PUBLISHED
    rows: list[list[str]] = []
    setw = find(results, "setw")
    if setw is not None:
        mix = "SETW (TPC-C mix)"
        rows += [
            _row(mix, "tpmC", f"{found['setw.tpmc']:,.0f}", _text(pub, "setw.tpmc")),
            _row(mix, "throughput", rate(setw), _text(pub, "setw.tps")),
            _row(mix, "latency", latency(setw), _text(pub, "setw.latency")),
            _row(mix, "success rate", f"{setw.success_rate:.2%}", _text(pub, "setw.success")),
            _row("SETW New-Order (order entry)", "throughput", tps(found["order-entry"]),
                 real=_text(real, "order-entry")),
            _row("SETW Delivery (clear, settle by DvP)", "throughput", tps(found["settlement"]),
                 real=_text(real, "settlement")),
        ]  # fmt: skip
    wait = _text(real, "real-validator.latency")
    for size in (5, 10, 20, 40):
        m = find(results, "real-validator", f"c={size}")
        if m is not None:
            quoted = f"{_text(real, f'real-validator.c={size}')}, {wait}"
            name = f"New-Order/Payment 50/50, waves of {size}"
            rows.append(_row(name, "throughput", rate(m, True), real=quoted))
    notary = f"{_text(corda, 'notary.raft')}; {_text(corda, 'notary.jpa')}"
    dvp1, dvp32 = find(results, "dvp", "c=1", 4), find(results, "dvp", "c=32", 4)
    notary4 = find(results, "notary-only", replicas=4)
    notary1 = find(results, "notary-only", replicas=1)
    rows += [
        _row("Notarised DvP, c=1, 4 replicas", "latency", latency(dvp1)),
        _row("Notarised DvP, c=32, 4 replicas", "throughput", rate(dvp32, True),
             corda=_text(corda, "node"), besu=_text(besu, "max-tps")),
        _row("Notary only, 4 replicas", "notarisations/s", rate(notary4),
             corda=notary, others=_text(other, "notary")),
        _row("Notary only, single notary", "notarisations/s", rate(notary1),
             corda=_text(corda, "notary.raft")),
    ]  # fmt: skip
    for layer in ("DoNothing", "CPUHeavy", "IOHeavy"):
        m, key = find(results, "blockbench", layer), f"blockbench.{layer}"
        name = f"BLOCKBENCH {layer}"
        rows.append(
            _row(name, "throughput", rate(m, True), _text(pub, key), others=_text(other, key))
        )
    for name in ("A", "B", "C"):
        m, reads = find(results, "ycsb", name), _text(besu, "reads") if name == "C" else ""
        rows.append(
            _row(f"YCSB-{name}", "operations/s", rate(m), _text(pub, f"ycsb.{name}"), besu=reads)
        )
    premium = found.get("trust-premium")
    smallbank, sql8 = find(results, "smallbank"), find(results, "trust-premium", "SQL c=8")
    sql_quotes = f"{_text(real, 'sql.settle')}; {_text(real, 'sql.order-entry')}"
    rows += [
        _row("Smallbank", "throughput", rate(smallbank, True), _text(pub, "smallbank"),
             others=_text(other, "smallbank")),
        _row("Trust premium: DvP over the same DvP as one SQL transaction", "mean latency ratio",
             f"{premium:,.1f}x" if premium else "not run", _text(pub, "trust-premium")),
        _row("PostgreSQL baseline DvP, c=8", "throughput", rate(sql8), real=sql_quotes),
    ]  # fmt: skip
    for m in (m for m in results if m.workload == "crashed-replica"):
        ratio = m.extra.get("tps_over_healthy")
        versus = f" ({ratio:.2f}x healthy)" if ratio is not None else ""
        name = f"Notarised DvP, {m.point}, f replicas killed"
        rows.append(_row(name, "throughput", rate(m, True) + versus))
    if "vault-scale.ratio" in found:
        ratio = f"{found['vault-scale.ratio']:.2f}"
        rows.append(_row("Vault scale", "slowest over fastest level", ratio))
    sizes = [mb for m in results for n, mb in m.rss_mb.items() if n not in INFRASTRUCTURE]
    if sizes:
        span = f"{min(sizes):,.0f}-{max(sizes):,.0f} MB"
        rows.append(_row("Memory per node", "resident set", span, corda=_text(corda, "memory")))
    rows.append(_row("TPC-E", "tpsE", "not run (no TPC-E mapping here)", _text(pub, "tpce")))
    return table(COLUMNS, rows)


def baseline(results: Sequence[Measurement]) -> list[str]:
    rows = []
    for row in BASELINE_ISSUE_12:
        m = find(results, "dvp", f"c={row.concurrency}", row.replicas)
        ours = (
            [tps(m.throughput_tps), ms(m.latency.mean_ms), ms(m.latency.p99_ms)]
            if m
            else ["not run"] * 3
        )
        rows.append(
            [
                row.notary,
                row.concurrency,
                tps(row.trades_per_s),
                ms(row.mean_ms),
                ms(row.p99_ms),
                *ours,
            ]
        )
    header = ("notary", "concurrency", "baseline trades/s", "baseline mean", "baseline p99",
              "this run trades/s", "this run mean", "this run p99")  # fmt: skip
    return [*table(header, rows), f"Baseline: {ISSUE_12}; {BASELINE_CPU_MS_PER_TRADE.text}.", ""]


def goals(found: dict[str, float]) -> list[str]:
    rows = []
    for goal in GOALS:
        value = found.get(goal.metric)
        bound = f"{'≥' if goal.at_least else '≤'} {goal.bound:,g}"
        source = goal.source.split(",")[0].split(":")[0]
        if value is None:
            rows.append([goal.name, bound, "not measured", "", source])
            continue
        met = value >= goal.bound if goal.at_least else value <= goal.bound
        rows.append([goal.name, bound, f"{value:,.2f}", "met" if met else "not met", source])
    return table(("goal", "target", "this run", "", "from"), rows)
