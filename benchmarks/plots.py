"""The report's PNG plots (matplotlib, no display): throughput against concurrency, latency
CDFs, the trust premium, and DvP throughput against vault size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.measure import Measurement, cdf
from benchmarks.references import GRIDTOKENX_PUBLISHED, GRIDTOKENX_REAL_VALIDATOR


def _axes(axes: plt.Axes, x: str, y: str, title: str, legend: int = 8) -> None:
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=legend)


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def throughput_vs_concurrency(results: Sequence[Measurement], path: Path) -> Path | None:
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for m in results:
        if m.workload in ("dvp", "real-validator"):
            name = "DvP (RequestAndPay)" if m.workload == "dvp" else "New-Order/Payment waves"
            replicas = m.parameters.get("replicas")
            label = f"{name}, {'single notary' if replicas == 1 else f'{replicas} replicas'}"
            series[label].append((int(m.parameters.get("concurrency", 1)), m.throughput_tps))
    if not series:
        return None
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label, points in series.items():
        xs, ys = zip(*sorted(points), strict=True)
        axes.plot(xs, ys, marker="o", label=f"{label} (this run)")
    reference = [
        (int(key.split("=")[1]), quote.value)
        for key, quote in GRIDTOKENX_REAL_VALIDATOR.items()
        if key.startswith("real-validator.c=") and quote.value is not None
    ]
    xs, ys = zip(*reference, strict=True)
    axes.plot(xs, ys, "k--", marker="x", label="GridTokenX real validator (published)")
    axes.set_xscale("log", base=2)
    _axes(axes, "concurrent transactions", "successful transactions per second", "Throughput")
    return _save(figure, path)


CDF_POINTS = (
    ("dvp", "c=1"),
    ("dvp", "c=32"),
    ("setw", None),
    ("blockbench", "DoNothing"),
    ("smallbank", None),
    ("trust-premium", "SQL c=1"),
)


def _label(m: Measurement) -> str:
    if m.workload == "trust-premium":
        return f"the same DvP as one SQL transaction, {m.point.removeprefix('SQL ')}"
    replicas = m.parameters.get("replicas")
    notary = "single notary" if replicas == 1 else f"{replicas} replicas"
    return f"{m.workload} {m.point}, {notary}"


def latency_cdf(results: Sequence[Measurement], path: Path) -> Path | None:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    drawn = 0
    for workload, point in CDF_POINTS:
        for m in results:
            if m.workload != workload or (point is not None and m.point != point):
                continue
            points = cdf(m.histogram)
            if not points:
                continue
            xs, ys = zip(*[(points[0][0], 0.0), *points], strict=True)
            axes.step(xs, ys, where="post", label=_label(m))
            drawn += 1
    if not drawn:
        plt.close(figure)
        return None
    axes.set_xscale("log")
    _axes(axes, "latency (ms)", "fraction at or below", "Latency CDF (this run)", legend=7)
    return _save(figure, path)


def trust_premium(results: Sequence[Measurement], path: Path) -> Path | None:
    sql = next(
        (m for m in results if m.workload == "trust-premium" and "trust_premium" in m.extra), None
    )
    if sql is None:
        return None
    ledger_ms, sql_ms = sql.extra["ledger_mean_ms"], sql.latency.mean_ms
    figure, axes = plt.subplots(figsize=(6, 4.5))
    labels = [
        "ledger DvP\n(this run)",
        "same DvP, one\nSQL transaction\n(this run)",
        "GridTokenX SETW\n(published,\nsimulated)",
        "its centralised\nbaseline\n(published)",
    ]
    published = GRIDTOKENX_PUBLISHED
    values = [
        ledger_ms,
        sql_ms,
        published["setw.latency"].value or 0.0,
        published["trust-premium.baseline"].value or 0.0,
    ]
    bars = axes.bar(labels, values, color=["tab:blue", "tab:cyan", "tab:gray", "lightgray"])
    axes.bar_label(bars, labels=[f"{v:,.1f} ms" for v in values], fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("mean latency (ms, log scale)")
    quoted = published["trust-premium"].value
    axes.set_title(f"Trust premium: {sql.extra['trust_premium']:,.1f}x here, {quoted:g}x published")
    return _save(figure, path)


def vault_scale(results: Sequence[Measurement], path: Path) -> Path | None:
    points = [(m.extra["states"], m.throughput_tps) for m in results if m.workload == "vault-scale"]
    if not points:
        return None
    points.sort()
    xs, ys = zip(*points, strict=True)
    figure, axes = plt.subplots(figsize=(6, 4.5))
    axes.plot(xs, ys, marker="o", label="DvP throughput (this run)")
    axes.fill_between(
        xs,
        [ys[0] * 0.9] * len(xs),
        [ys[0] * 1.1] * len(xs),
        alpha=0.15,
        label="±10% of the first level",
    )
    axes.set_xscale("log")
    axes.set_ylim(bottom=0)
    _axes(axes, "states already in each trading party's vault", "trades per second", "Vault scale")
    return _save(figure, path)


def draw_all(results: Sequence[Measurement], directory: Path) -> list[Path]:
    drawn = [
        throughput_vs_concurrency(results, directory / "throughput_vs_concurrency.png"),
        latency_cdf(results, directory / "latency_cdf.png"),
        trust_premium(results, directory / "trust_premium.png"),
        vault_scale(results, directory / "vault_scale.png"),
    ]
    return [path for path in drawn if path is not None]
