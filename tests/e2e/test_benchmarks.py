"""The benchmark harness on a real network, a few transactions of every workload, so the
harness cannot rot (`make bench` runs the same code with real counts)."""

from __future__ import annotations

import json

import pytest

from benchmarks.plan import TINY
from benchmarks.runner import Options, run_harness
from benchmarks.workloads import WORKLOADS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    run_harness(Options(plan=TINY, replicas=4, companion=False, out=out, conditions="test"))
    return out


def test_every_workload_measured_successful_transactions(report):
    data = json.loads((report / "report.json").read_text())

    assert data["failures"] == []
    measured = {m["workload"] for m in data["measurements"]}
    assert measured == set(WORKLOADS) - {"idle"}
    assert all(m["ok"] > 0 and m["throughput_tps"] > 0 for m in data["measurements"])
    assert set(data["idle"]["4 replicas"]) >= {"broker", "networkmap"}


def test_trades_go_on_with_f_replicas_killed_and_are_compared_with_healthy(report):
    data = json.loads((report / "report.json").read_text())

    by_workload = {(m["workload"], m["point"]): m for m in data["measurements"]}
    healthy, crashed = by_workload[("dvp", "c=4")], by_workload[("crashed-replica", "c=4")]
    assert healthy["ok"] == crashed["ok"] == TINY.crashed[4]
    assert len(crashed["parameters"]["crashed"]) == 1
    assert crashed["extra"]["tps_over_healthy"] > 0
    assert "f replicas killed" in (report / "report.md").read_text()


def test_cpu_is_counted_for_parties_replicas_and_the_broker(report):
    data = json.loads((report / "report.json").read_text())

    (trade,) = [m for m in data["measurements"] if m["workload"] == "dvp" and m["point"] == "c=1"]
    assert {"party", "replica", "broker", "total"} <= set(trade["cpu_ms_per_tx"])
    assert trade["cpu_ms_per_tx"]["party"] > 0
    assert trade["notary"]["replicas"]


def test_the_report_sets_this_run_beside_the_references_and_the_baseline(report):
    text = (report / "report.md").read_text()

    assert "## Side by side" in text
    assert "2,111 tpmC" in text
    assert "## Baseline (issue 12)" in text
    assert "## Goals" in text
    for plot in ("throughput_vs_concurrency", "latency_cdf", "trust_premium", "vault_scale"):
        assert (report / f"{plot}.png").stat().st_size > 0
