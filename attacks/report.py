"""`attacks/report.json` and `attacks/report.md`: every row, the network shape and the seed."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attacks.runner import Run
from attacks.scenario import Latency, Row

HEADERS = (
    "scenario",
    "mode",
    "attempts",
    "accepted",
    "honest ops",
    "p50 ms",
    "p99 ms",
    "baseline p50/p99",
    "verdict",
)


def verdict(row: Row) -> str:
    # Unsafe rows are f + 1 faulty replicas or an attack with its mitigation off.
    if row.unsafe:
        return "unsafe: broke" if row.accepted else "unsafe: held"
    return "pass" if row.passed else "FAIL"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def cells(row: Row) -> list[str]:
    honest = f"{row.honest.count}" + (
        f" ({row.honest.failures} failed)" if row.honest.failures else ""
    )
    if row.honest.unfinished:
        honest += f" ({row.honest.unfinished} awaiting the notary)"
    return [
        row.scenario,
        row.mode,
        str(row.attempts),
        str(row.accepted),
        honest,
        _ms(row.honest.p50_ms),
        _ms(row.honest.p99_ms),
        f"{_ms(row.baseline.p50_ms)}/{_ms(row.baseline.p99_ms)}",
        verdict(row),
    ]


def repeat_command(run: Run) -> str:
    """The command that repeats this run exactly (same seed, counts and options)."""
    options = run.options
    words = ["dlt", "attack", "run", *(run.scenarios if len(run.scenarios) == 1 else ["all"])]
    words += ["--seed", str(options.seed)]
    if options.count is not None:
        words += ["--count", str(options.count)]
    if options.full:
        words.append("--full")
    if options.allow_unsafe:
        words.append("--allow-unsafe")
    for mode in options.modes:
        words += ["--mode", mode]
    return " ".join(words)


def as_json(run: Run) -> dict[str, Any]:
    def row(r: Row) -> dict[str, Any]:
        data = asdict(r)
        data["passed"] = r.passed
        data["extra"] = dict(r.extra)
        return data

    return {
        "started_at": datetime.fromtimestamp(run.started, UTC).isoformat(),
        "seconds": round(run.seconds, 1),
        "seed": run.options.seed,
        "options": asdict(run.options),
        "scenarios": run.scenarios,
        "network": run.network,
        "repeat": repeat_command(run),
        "baseline": asdict(run.baseline),
        "passed": not run.failed,
        "rows": [row(r) for r in run.rows],
    }


def as_markdown(run: Run) -> str:
    network = run.network
    lines = [
        "# Attack suite report",
        "",
        f"Run {datetime.fromtimestamp(run.started, UTC):%Y-%m-%d %H:%M} UTC, "
        f"{run.seconds:.0f} s; seed {run.options.seed}. Repeat with `{repeat_command(run)}`.",
        "",
        f"Network: {network.get('notary_services')} notary service of "
        f"{network.get('replicas')} replicas (f = {network.get('fault_tolerance')}, "
        f"{'validating' if network.get('validating') else 'non-validating'}), "
        f"{network.get('producers')} producers, {network.get('consumers')} consumers, the bank "
        "and the market operator, each its own process, over a private RabbitMQ with TLS.",
        "",
        f"Honest workload: Consumer 1 paying Producer 1 one cent per notarised payment. Baseline "
        f"without an attack: {run.baseline.count} payments, p50 {_ms(run.baseline.p50_ms)} ms, "
        f"p99 {_ms(run.baseline.p99_ms)} ms.",
        "",
        f"**{'Every row passed' if not run.failed else f'{len(run.failed)} rows FAILED'}**: "
        "a row passes when nothing was accepted that should not have been.",
        "",
        _table(r for r in run.rows if not r.unsafe),
    ]
    unsafe = [r for r in run.rows if r.unsafe]
    if unsafe:
        lines += [
            "",
            "## What runs beyond the guarantees break (`--allow-unsafe`)",
            "",
            "f + 1 faulty replicas, or an attack with its mitigation off, on purpose: these rows "
            "document the limit, they do not fail the run.",
            "",
            _table(unsafe),
        ]
    lines += ["", "## Notes", ""]
    for r in run.rows:
        note = r.notes + ("; accepted: " + "; ".join(r.accepted_what) if r.accepted_what else "")
        lines.append(f"- **{r.scenario} / {r.mode}**: {note}")
    return "\n".join(lines) + "\n"


def _table(rows: Any) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(out)


def write(run: Run, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "report.json", directory / "report.md"
    json_path.write_text(json.dumps(as_json(run), indent=2) + "\n")
    md_path.write_text(as_markdown(run))
    return json_path, md_path


def summary_of_failures(run: Run) -> str:
    """One line naming what was accepted, for the non-zero exit."""
    parts = []
    for r in run.failed:
        what = f" ({r.accepted_what[0]})" if r.accepted_what else ""
        parts.append(f"{r.scenario} / {r.mode}: {r.accepted} of {r.attempts} accepted{what}")
    return "; ".join(parts)


def latency_text(latency: Latency) -> str:
    return f"p50 {_ms(latency.p50_ms)} ms, p99 {_ms(latency.p99_ms)} ms"
