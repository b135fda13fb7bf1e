"""`python -m benchmarks.ab BASE`: the benchmark run alternately on another revision and on this
checkout, so a change is judged against a baseline measured minutes apart on the same machine.

Neighbouring runs on a shared 2-core machine differ by up to 30%, more than most single
changes gain: one "before" and one "after" run cannot tell them apart. Here each pair runs both
builds back to back, in alternating order (base first, then this checkout first), so a drift
over the session weighs on both sides alike; the summary gives each side's median and the
ratio of every pair, whose spread says whether the difference is real.

BASE is checked out into a temporary git worktree and its nodes, load generator and harness all
run from there (PYTHONPATH); the virtualenv (dependencies) is this checkout's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Figure:
    """One point of one run: throughput and CPU per transaction summed over all processes."""

    tps: float
    cpu_ms: float | None


@dataclass(frozen=True)
class Comparison:
    point: str
    base: tuple[Figure, ...]
    head: tuple[Figure, ...]

    @property
    def tps_ratios(self) -> tuple[float, ...]:
        """head / base throughput of each pair (above 1: this checkout is faster)."""
        return tuple(h.tps / b.tps for b, h in zip(self.base, self.head, strict=True) if b.tps)


def order(pairs: int) -> list[tuple[int, str]]:
    """(pair, side) in the order they run: base first in even pairs, head first in odd ones."""
    runs: list[tuple[int, str]] = []
    for pair in range(pairs):
        sides = ("base", "head") if pair % 2 == 0 else ("head", "base")
        runs += [(pair, side) for side in sides]
    return runs


def figures(report: dict) -> dict[str, Figure]:
    """The figures of a report.json, by "workload: point"."""
    found = {}
    for m in report.get("measurements", []):
        cpu = (m.get("cpu_ms_per_tx") or {}).get("total")
        found[f"{m['workload']}: {m['point']}"] = Figure(m["throughput_tps"], cpu)
    return found


def compare(base: Sequence[dict], head: Sequence[dict]) -> list[Comparison]:
    """Pair the runs' figures point by point; a point missing from any run is left out."""
    base_figures = [figures(r) for r in base]
    head_figures = [figures(r) for r in head]
    points = [p for p in base_figures[0] if all(p in f for f in [*base_figures, *head_figures])]
    return [
        Comparison(
            point,
            tuple(f[point] for f in base_figures),
            tuple(f[point] for f in head_figures),
        )
        for point in points
    ]


def table(comparisons: Sequence[Comparison], base_label: str) -> str:
    """The summary as Markdown: medians of each side and every pair's throughput ratio."""
    lines = [
        f"| point | {base_label} tps | this checkout tps | ratio (each pair) | "
        f"{base_label} CPU ms/tx | this checkout CPU ms/tx |",
        "|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        base_tps = statistics.median(f.tps for f in c.base)
        head_tps = statistics.median(f.tps for f in c.head)
        ratios = ", ".join(f"{r:.2f}" for r in c.tps_ratios)
        lines.append(
            f"| {c.point} | {base_tps:.1f} | {head_tps:.1f} | "
            f"{head_tps / base_tps:.2f} ({ratios}) | {_cpu(c.base)} | {_cpu(c.head)} |"
        )
    return "\n".join(lines)


def _cpu(side: Sequence[Figure]) -> str:
    known = [f.cpu_ms for f in side if f.cpu_ms is not None]
    return f"{statistics.median(known):.1f}" if known else "n/a"


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """`revision` checked out in a temporary worktree, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="dlt-ab-"))
    path = directory / "base"
    try:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), revision],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise SystemExit(f"cannot check out {revision!r}: {exc.stderr.strip()}") from exc
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)


def run_once(source: Path, arguments: Sequence[str], out: Path) -> dict:
    """One `python -m benchmarks` run with the code of `source`; returns its report."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    argv = [sys.executable, "-m", "benchmarks", *arguments, "--out", str(out)]
    result = subprocess.run(argv, cwd=source, env=env, check=False)
    report = out / "report.json"
    if result.returncode != 0 or not report.exists():
        raise SystemExit(f"the benchmark run in {source} failed (exit {result.returncode})")
    return json.loads(report.read_text())


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ab",
        description="Run the benchmark alternately on BASE and on this checkout; compare.",
        epilog="Arguments after -- go to every `python -m benchmarks` run, e.g. "
        "-- --only notary-only --no-companion --notary-count 2000",
    )
    parser.add_argument("base", help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("--pairs", type=int, default=3, help="base/head pairs to run (default 3)")
    parser.add_argument("--out", type=Path, help="where the runs and the summary go")
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    args.benchmark = argv[split + 1 :] or ["--only", "notary-only"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    out = args.out or RESULTS / f"ab-{args.base.replace('/', '_')}"
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, list[dict]] = {"base": [], "head": []}
    with worktree(args.base) as base:
        sources = {"base": base, "head": REPO}
        for pair, side in order(args.pairs):
            print(f"pair {pair + 1} of {args.pairs}: {side}", file=sys.stderr, flush=True)
            report = run_once(sources[side], args.benchmark, out / f"{pair + 1}-{side}")
            reports[side].append(report)
    summary = table(compare(reports["base"], reports["head"]), args.base)
    (out / "ab.md").write_text(summary + "\n")
    print(summary)
    print(f"Runs and summary: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
