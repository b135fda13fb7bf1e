"""The attack report: verdicts, the failure line, and what a reader needs to repeat a run."""

from __future__ import annotations

import json

from attacks.report import as_markdown, repeat_command, summary_of_failures, verdict, write
from attacks.runner import Run
from attacks.scenario import Latency, Options, Row

BASELINE = Latency(count=30, p50_ms=480.0, p99_ms=900.0)


def _row(mode: str, accepted: int = 0, *, unsafe: bool = False, what: tuple[str, ...] = ()) -> Row:
    return Row(
        scenario="double-spend",
        mode=mode,
        attempts=60,
        accepted=accepted,
        honest=Latency(count=12, p50_ms=610.0, p99_ms=1200.0),
        baseline=BASELINE,
        notes="a note",
        accepted_what=what,
        unsafe=unsafe,
    )


def _run(*rows: Row, options: Options | None = None) -> Run:
    run = Run(
        options=options or Options(seed=7, allow_unsafe=True),
        scenarios=["double-spend", "forgery"],
        network={"replicas": 4, "fault_tolerance": 1, "notary_services": 1},
        baseline=BASELINE,
    )
    run.rows.extend(rows)
    return run


def test_a_row_that_accepted_nothing_passes_and_one_that_accepted_anything_fails():
    assert _row("equivocate x1").passed
    assert not _row("equivocate x1", accepted=1).passed
    assert verdict(_row("equivocate x1", accepted=1)) == "FAIL"


def test_a_row_beyond_the_fault_tolerance_documents_the_break_without_failing_the_run():
    broken = _row("equivocate x2", accepted=3, unsafe=True)

    assert broken.passed
    assert verdict(broken) == "unsafe: broke"
    assert not _run(broken).failed


def test_the_failure_line_names_what_was_accepted():
    run = _run(_row("inject x1", accepted=2, what=("state abc:0 notarised twice",)))

    assert summary_of_failures(run) == (
        "double-spend / inject x1: 2 of 60 accepted (state abc:0 notarised twice)"
    )


def test_the_repeat_command_carries_the_seed_count_and_options():
    run = _run(options=Options(count=50, seed=7, full=True, allow_unsafe=True))

    assert repeat_command(run) == "dlt attack run all --seed 7 --count 50 --full --allow-unsafe"


def test_the_reports_record_the_network_the_seed_and_every_row(tmp_path):
    run = _run(_row("no faults"), _row("equivocate x2", accepted=3, unsafe=True))

    json_path, md_path = write(run, tmp_path / "attacks")

    report = json.loads(json_path.read_text())
    assert report["seed"] == 7
    assert report["network"]["replicas"] == 4
    assert report["passed"] is True
    assert [r["mode"] for r in report["rows"]] == ["no faults", "equivocate x2"]
    markdown = md_path.read_text()
    assert "## What runs beyond the guarantees break" in markdown
    assert "dlt attack run all --seed 7 --allow-unsafe" in markdown


def test_the_markdown_says_how_many_rows_failed():
    markdown = as_markdown(_run(_row("garbage-signatures x1", accepted=1)))

    assert "1 rows FAILED" in markdown
