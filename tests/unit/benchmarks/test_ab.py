"""The A/B comparison: which build runs when, and how the runs' figures are paired."""

from __future__ import annotations

import subprocess

import pytest

from benchmarks import ab


def _report(tps: float, cpu: float | None = 40.0, point: str = "4 replicas") -> dict:
    cpu_ms = {"total": cpu} if cpu is not None else {}
    return {
        "measurements": [
            {
                "workload": "notary-only",
                "point": point,
                "throughput_tps": tps,
                "cpu_ms_per_tx": cpu_ms,
            }
        ]
    }


def test_each_pair_runs_both_builds_and_the_first_alternates():
    assert ab.order(3) == [
        (0, "base"), (0, "head"), (1, "head"), (1, "base"), (2, "base"), (2, "head"),
    ]  # fmt: skip


def test_every_pair_gives_its_own_ratio_so_drift_between_pairs_cancels():
    # The machine slows down by half between pairs; within each pair head is 10% faster.
    base = [_report(40.0), _report(20.0)]
    head = [_report(44.0), _report(22.0)]

    [comparison] = ab.compare(base, head)

    assert comparison.point == "notary-only: 4 replicas"
    assert comparison.tps_ratios == pytest.approx((1.1, 1.1))


def test_a_point_missing_from_any_run_is_left_out():
    base = [
        {
            "measurements": [
                *_report(40)["measurements"],
                *_report(9, point="1 replica")["measurements"],
            ]
        }
    ]
    head = [_report(44)]

    assert [c.point for c in ab.compare(base, head)] == ["notary-only: 4 replicas"]


def test_the_summary_gives_medians_each_pair_and_cpu():
    base = [_report(40.0, 50.0), _report(20.0, 60.0), _report(30.0, 55.0)]
    head = [_report(44.0, 45.0), _report(22.0, 54.0), _report(33.0, 50.0)]

    summary = ab.table(ab.compare(base, head), "cdf13fe")

    row = summary.splitlines()[2]
    assert (
        row == "| notary-only: 4 replicas | 30.0 | 33.0 | 1.10 (1.10, 1.10, 1.10) | 55.0 | 50.0 |"
    )
    assert "cdf13fe tps" in summary.splitlines()[0]


def test_a_run_without_cpu_figures_says_so():
    summary = ab.table(ab.compare([_report(40.0, None)], [_report(44.0, None)]), "base")

    assert summary.splitlines()[2].endswith("| n/a | n/a |")


def test_the_base_revision_is_checked_out_apart_and_removed_after():
    head = subprocess.run(
        ["git", "-C", str(ab.REPO), "rev-parse", "HEAD~1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    with ab.worktree("HEAD~1") as path:
        checked_out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert (path / "benchmarks" / "__main__.py").exists()

    assert checked_out == head
    assert not path.exists()


def test_an_unknown_revision_is_a_one_line_error():
    with (
        pytest.raises(SystemExit, match="cannot check out 'no-such-revision'"),
        ab.worktree("no-such-revision"),
    ):
        pass


def test_arguments_after_the_separator_go_to_the_benchmark():
    args = ab.parse(["abc123", "--pairs", "2", "--", "--only", "dvp", "--no-companion"])

    assert (args.base, args.pairs, args.benchmark) == (
        "abc123",
        2,
        ["--only", "dvp", "--no-companion"],
    )
    assert ab.parse(["abc123"]).benchmark == ["--only", "notary-only"]
