"""From a load generator's raw result to the figures a report shows, all from the run."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from benchmarks import procfs
from benchmarks.loadgen import LOAD_GENERATOR, LoadResult, Schedule
from benchmarks.network import Component
from benchmarks.prometheus import message_path, notary_activity


@dataclass(frozen=True)
class Latency:
    """Milliseconds, from an HDR histogram of microseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, encoded: bytes) -> Latency:
        histogram = HdrHistogram.decode(encoded)
        if histogram.get_total_count() == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)

        def at(percentile: float) -> float:
            return histogram.get_value_at_percentile(percentile) / 1000

        return cls(
            count=histogram.get_total_count(),
            mean_ms=histogram.get_mean_value() / 1000,
            p50_ms=at(50),
            p95_ms=at(95),
            p99_ms=at(99),
            max_ms=histogram.get_max_value() / 1000,
        )


def cdf(encoded: str) -> list[tuple[float, float]]:
    """(latency ms, fraction at or below) points of a stored histogram, for plotting."""
    histogram = HdrHistogram.decode(base64.b64decode(encoded))
    if histogram.get_total_count() == 0:
        return []
    return [
        (item.value_iterated_to / 1000, item.percentile / 100)
        for item in histogram.get_percentile_iterator(5)
    ]


@dataclass
class TypeFigures:
    ok: int
    failed: int
    success_rate: float
    throughput_tps: float
    latency: Latency
    errors: dict[str, int]
    histogram: str
    """The HDR histogram, encoded (base64), so a reader can recompute any percentile."""


@dataclass
class Measurement:
    """One measured point of one workload."""

    workload: str
    point: str
    network: str
    schedule: str
    parameters: dict[str, Any]
    seconds: float
    ok: int
    failed: int
    success_rate: float
    throughput_tps: float
    latency: Latency
    types: dict[str, TypeFigures]
    cpu_ms_per_tx: dict[str, float]
    """CPU milliseconds per successful transaction, per role and in total (network only)."""
    cpu_seconds: dict[str, float]
    """CPU seconds of each component in the window, the load generator included."""
    rss_mb: dict[str, float]
    histogram: str
    notary: dict[str, Any] | None = None
    messaging: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per role: messages per transaction and their mean confirm and delivery times."""
    extra: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def measurement(
    *,
    workload: str,
    point: str,
    network: str,
    schedule: Schedule,
    parameters: dict[str, Any],
    result: LoadResult,
    components: list[Component],
    replicas: list[str],
    roles: dict[str, str] | None = None,
) -> Measurement:
    seconds = result.seconds
    ok = sum(t.ok for t in result.types.values())
    failed = sum(t.failed for t in result.types.values())
    types = {
        label: TypeFigures(
            ok=t.ok,
            failed=t.failed,
            success_rate=t.ok / (t.ok + t.failed) if t.ok + t.failed else 0.0,
            throughput_tps=t.ok / seconds,
            latency=Latency.of(t.histogram),
            errors=dict(t.errors.most_common(5)),
            histogram=base64.b64encode(t.histogram).decode(),
        )
        for label, t in result.types.items()
    }
    end = result.after.usage
    cpu_seconds = procfs.cpu_seconds(result.before.usage, end)
    role_of = {component.name: component.role for component in components}
    per_role: dict[str, float] = defaultdict(float)
    for name, used in cpu_seconds.items():
        if name in role_of:
            per_role[role_of[name]] += used
    per_tx = {role: used * 1000 / ok if ok else 0.0 for role, used in sorted(per_role.items())}
    per_tx["total"] = sum(per_tx.values())
    if LOAD_GENERATOR in cpu_seconds and ok:
        per_tx[LOAD_GENERATOR] = cpu_seconds[LOAD_GENERATOR] * 1000 / ok
    notary = None
    if replicas:
        notary = notary_activity(
            {n: result.before.scrapes.get(n, {}) for n in replicas},
            {n: result.after.scrapes.get(n, {}) for n in replicas},
            seconds,
        )
    return Measurement(
        workload=workload,
        point=point,
        network=network,
        schedule=schedule.describe(),
        parameters=parameters,
        seconds=seconds,
        ok=ok,
        failed=failed,
        success_rate=ok / (ok + failed) if ok + failed else 0.0,
        throughput_tps=ok / seconds,
        latency=Latency.of(result.overall),
        types=types,
        cpu_ms_per_tx=per_tx,
        cpu_seconds=cpu_seconds,
        rss_mb={name: size / 2**20 for name, size in sorted(end.rss_bytes.items())},
        histogram=base64.b64encode(result.overall).decode(),
        notary=notary,
        messaging=message_path(result.before.scrapes, result.after.scrapes, roles or {}, ok),
    )
