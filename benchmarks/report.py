"""The report: report.json (every figure, histograms included) and report.md (the tables).

Every figure of ours comes from the measurements of this run; every other figure comes from
`benchmarks.references`, printed with the kind of figure it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.comparison import baseline, figures, goals, ms, side_by_side, table, tps
from benchmarks.measure import Latency, Measurement
from benchmarks.references import (
    BASELINE_ISSUE_12,
    BESU_QUORUM_PUBLISHED,
    CORDA_PUBLISHED,
    GRIDTOKENX_PUBLISHED,
    GRIDTOKENX_REAL_VALIDATOR,
    OTHER_PUBLISHED,
)


@dataclass
class RunInfo:
    started: str
    finished: str
    plan: str
    machine: dict[str, Any]
    conditions: str
    networks: list[str]
    command: str
    idle: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)
    """Wall seconds of each step: network start, seeding, each point with its warm-up."""


def _figures_row(
    label: str, ok: int, failed: int, rate: float, throughput: float, lat: Latency
) -> list[str]:
    return [label, str(ok), str(failed), f"{rate:.1%}", tps(throughput)] + [
        ms(value) for value in (lat.mean_ms, lat.p50_ms, lat.p95_ms, lat.p99_ms)
    ]


def _notary_line(notary: dict[str, Any]) -> str:
    text = (
        f"Notary: {notary['commits_per_s_per_replica']:.1f} commits/s per replica, "
        f"mean batch size {notary['mean_batch_size']:.2f}"
    )
    if notary.get("max_batch_bucket"):
        text += f", largest batch bucket <= {notary['max_batch_bucket']:g}"
    return text + "."


def _messaging_line(messaging: dict[str, dict[str, float]]) -> str:
    parts = []
    for role, m in messaging.items():
        part = (
            f"{role} sent {m['sent_per_tx']:.1f} (confirmed in {m['confirm_ms']:.1f} ms), "
            f"received {m['received_per_tx']:.1f} ({m['delivery_ms']:.1f} ms after the send)"
        )
        if m["notarisation_ms"]:
            part += f", notarised in {m['notarisation_ms']:.0f} ms"
        parts.append(part)
    return "Messages per transaction, per role (means): " + "; ".join(parts) + "."


def details(results: Sequence[Measurement]) -> list[str]:
    """Per point: every transaction type, CPU per role, notary batches, failures."""
    lines: list[str] = []
    for m in results:
        lines += [
            f"### {m.workload} {m.point}",
            "",
            f"{m.network}; {m.schedule}; {m.seconds:.1f} s.",
            "",
        ]
        rows = [
            _figures_row(label, t.ok, t.failed, t.success_rate, t.throughput_tps, t.latency)
            for label, t in m.types.items()
        ]
        if len(m.types) > 1:
            rows.append(
                _figures_row("all", m.ok, m.failed, m.success_rate, m.throughput_tps, m.latency)
            )
        lines += table(
            ("type", "ok", "failed", "success", "throughput", "mean", "p50", "p95", "p99"), rows
        )
        cpu = ", ".join(f"{role} {value:,.1f}" for role, value in m.cpu_ms_per_tx.items())
        lines += [f"CPU ms per successful transaction: {cpu}.", ""]
        if m.notary:
            lines += [_notary_line(m.notary), ""]
        if m.messaging:
            lines += [_messaging_line(m.messaging), ""]
        if m.extra:
            lines += ["Also: " + ", ".join(f"{k} {v:,.2f}" for k, v in m.extra.items()) + ".", ""]
        failures = [
            f"- {label} failed {count}x: `{text}`"
            for label, t in m.types.items()
            for text, count in t.errors.items()
        ]
        lines += [*failures, ""] if failures else []
    return lines


def memory(results: Sequence[Measurement]) -> list[str]:
    last = {m.network: m.rss_mb for m in results}
    lines = []
    for network, sizes in last.items():
        rows = [[name, f"{mb:,.0f}"] for name, mb in sizes.items()]
        lines += [
            f"{network}, at the end of its last workload:",
            "",
            *table(("process", "resident MB"), rows),
        ]
    return lines


def _references() -> dict[str, Any]:
    groups = {
        "gridtokenx_published": GRIDTOKENX_PUBLISHED,
        "gridtokenx_real_validator": GRIDTOKENX_REAL_VALIDATOR,
        "corda": CORDA_PUBLISHED,
        "besu_quorum": BESU_QUORUM_PUBLISHED,
        "others": OTHER_PUBLISHED,
    }
    quoted: dict[str, Any] = {g: {k: asdict(v) for k, v in q.items()} for g, q in groups.items()}
    quoted["baseline_issue_12"] = [asdict(row) for row in BASELINE_ISSUE_12]
    return quoted


INTRODUCTION = (
    "Every figure in the 'This run' column was measured in this run; every other column is a "
    "quotation (benchmarks/references.py, with sources). GridTokenX's published figures come "
    "from a simulation mode whose transactions are timed sleeps; its real-validator figures "
    "are real transactions."
)


METHOD = (
    "SETW: New-Order is PlaceBid (consumers) or PlaceOffer (producers), alternately; Payment is "
    "energy.Pay; Order-Status reads the latest bid by its id (by delivery window would be closer "
    "to TPC-C, but the node's RPC cannot yet filter on a timestamp column: the condition reaches "
    "SQL as text); Delivery is ClearMarket of a past window, every match settled by DvP; "
    "Stock-Level sums a consumer's coins. tpmC counts successful New-Orders per minute.",
    "BLOCKBENCH, YCSB and Smallbank run on cordapp_bench: each transaction involves one node and "
    "the notary. CPUHeavy sorts the plan's number of integers twice (node and contract); IOHeavy "
    "writes and reads back the plan's number of records. YCSB keys and Smallbank customers are "
    "chosen uniformly; Smallbank's own aborts (insufficient funds) count as failures.",
    "CPU per transaction is each process tree's CPU time in the measured window over the "
    "successful transactions, so it includes what the processes do in the background (network "
    "map polling, see the idle cost); 'total' is the network's processes, the load generator "
    "apart. Latency of an open-loop arrival counts from its due time.",
    "States that workloads spend are issued 10 (money) or 50 (slots, records, accounts) per "
    "transaction: a spend makes the parties load and decode the whole transaction that created "
    "the state. Vault scale fills the two trading vaults with payment states in another "
    "currency, 1,000 per transaction, so the trades select their usual coins among them.",
)


def _header(info: RunInfo) -> list[str]:
    machine = info.machine
    return [
        f"# Benchmark report ({info.plan})",
        "",
        f"Run {info.started} to {info.finished} with `{info.command}`.",
        f"Machine: {machine.get('cpus')} cores ({machine.get('cpu_model')}), "
        f"{machine.get('memory_gb', 0):.0f} GB, {machine.get('system')}, Python "
        f"{machine.get('python')}; load average {machine.get('load_before')} before, "
        f"{machine.get('load_after')} after.",
        f"Conditions: {info.conditions}",
        f"Networks: {'; '.join(info.networks)}. Real processes, AMQP over TLS, load from a "
        "separate process over gRPC.",
        "",
    ]


def write(directory: Path, info: RunInfo, results: Sequence[Measurement]) -> tuple[Path, Path]:
    """Write report.json and report.md into `directory`; returns their paths."""
    found = figures(results, info.idle)
    data = {
        **asdict(info),
        "figures": found,
        "measurements": [m.to_json() for m in results],
        "references": _references(),
    }
    json_path = directory / "report.json"
    json_path.write_text(json.dumps(data, indent=1))
    lines = [
        *_header(info),
        "## Side by side",
        "",
        INTRODUCTION,
        "",
        *side_by_side(results, found),
        "## Baseline (issue 12)",
        "",
        *baseline(results),
        "## Goals",
        "",
        *goals(found),
    ]
    if info.idle:
        lines += ["## Idle cost", "", "CPU of each process with no load, % of one core:", ""]
        for network, per in info.idle.items():
            rows = [[name, f"{percent:.2f}"] for name, percent in per.items()]
            lines += [f"{network}:", "", *table(("process", "% of a core"), rows)]
    if info.plots:
        lines += ["## Plots", "", *[f"![{Path(p).stem}]({p})" for p in info.plots], ""]
    lines += ["## Method", "", *[f"- {note}" for note in METHOD], ""]
    if info.steps:
        rows = [[step, f"{seconds:,.1f}"] for step, seconds in info.steps]
        lines += ["## Where the time went", "", *table(("step", "wall s"), rows)]
    lines += ["## Details", "", *details(results), "## Memory", "", *memory(results)]
    if info.failures:
        lines += ["## Workloads that did not complete", ""]
        lines += [f"- {f['workload']} on {f['network']}: `{f['error']}`" for f in info.failures]
        lines.append("")
    md_path = directory / "report.md"
    md_path.write_text("\n".join(lines))
    return json_path, md_path
