"""The attack suite's fast subset: each scenario at small counts against a real network.

`make attacks` runs every scenario at full strength (< 15 min); these keep a regression in
any defence failing `make test`. The network is the suite's own shape: a four-replica
cluster (f = 1), two producers and two consumers, cordapp_bench for the attacker's coins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .conftest import Localnet, _running


@pytest.fixture(scope="module")
def attack_net(tmp_path_factory) -> Iterator[Localnet]:
    yield from _running(
        tmp_path_factory.mktemp("attacks") / "net",
        *("--replicas", "4", "--producers", "2", "--consumers", "2"),
        *("--cordapp", "cordapp_bench"),
    )


def _attack(net: Localnet, tmp_path, *args: str) -> tuple[int, dict, str]:
    report = tmp_path / "report"
    result = net.dlt(
        "attack",
        "run",
        *args,
        "--home",
        str(net.home),
        "--report-dir",
        str(report),
        check=False,
        timeout=900,
    )
    return result.returncode, json.loads((report / "report.json").read_text()), result.stderr


def test_one_equivocating_replica_gets_no_state_notarised_twice_but_two_do(attack_net, tmp_path):
    code, report, stderr = _attack(
        attack_net,
        tmp_path,
        "double-spend",
        "--mode",
        "equivocate",
        "--count",
        "16",
        "--allow-unsafe",
    )

    assert code == 0, stderr
    rows = {row["mode"]: row for row in report["rows"]}
    assert rows["no faults"]["accepted"] == 0
    assert rows["equivocate x1"]["accepted"] == 0
    assert rows["equivocate x1"]["attempts"] == 8
    assert rows["equivocate x2"]["unsafe"] is True
    assert rows["equivocate x2"]["accepted"] > 0
    assert report["network"]["fault_tolerance"] == 1


@pytest.mark.parametrize(
    ("scenario", "count"),
    [("forgery", "6"), ("replay", "3"), ("impersonation", "5"), ("malformed", "40")],
)
def test_no_forgery_replay_impersonation_or_malformed_input_gets_through(
    attack_net, tmp_path, scenario, count
):
    code, report, stderr = _attack(attack_net, tmp_path, scenario, "--count", count)

    assert code == 0, stderr
    assert report["passed"] is True
    assert report["rows"] and all(row["accepted"] == 0 for row in report["rows"])
    assert all(row["scenario"] == scenario for row in report["rows"])


def test_trades_through_kill_9_complete_exactly_once_and_conserve_money_and_energy(
    attack_net, tmp_path
):
    code, report, stderr = _attack(attack_net, tmp_path, "crash-soak", "--count", "6")

    assert code == 0, stderr
    (row,) = report["rows"]
    assert row["accepted"] == 0
    assert sum(row["extra"]["trades"].values()) == 6
