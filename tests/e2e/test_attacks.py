"""The attack suite's fast subset: each scenario at small counts against a real network.

`make attacks` runs every scenario at full strength (< 15 min); these keep a regression in
any defence failing `make test`. The network is the suite's own shape: a four-replica
cluster (f = 1), two producers and two consumers, cordapp_bench for the attacker's coins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .conftest import CONSUMER, PRODUCER, Localnet, _running


@pytest.fixture(scope="module")
def attack_net(tmp_path_factory) -> Iterator[Localnet]:
    yield from _running(
        tmp_path_factory.mktemp("attacks") / "net",
        *("--replicas", "4", "--producers", "2", "--consumers", "2"),
        *("--cordapp", "cordapp_bench"),
    )


REPLICA_3 = "notary-service-replica-3-zurich-ch"
REPLICA_4 = "notary-service-replica-4-zurich-ch"
REPLICA_4_NAME = "OU=Replica 4, O=Notary Service, L=Zurich, C=CH"


def test_a_replica_configured_byzantine_runs_as_such_and_the_network_shows_it(attack_net):
    attack_net.dlt("localnet", "up", "--byzantine", f"{REPLICA_4}=equivocate", timeout=300)

    (service,) = json.loads(
        attack_net.dlt("network", "notaries", "--node", "consumer-1", "--json").stdout
    )
    faults = {r["name"]: r["configured_fault"] for r in service["replicas"]}
    assert faults[REPLICA_4_NAME] == "equivocate"
    assert sum(fault is not None for fault in faults.values()) == 1
    log = (attack_net.home / "nodes" / REPLICA_4 / "node.log").read_text()
    assert "runs as a FAULTY replica: equivocate" in log
    attack_net.flow(
        "community-bank", "energy.IssuePayment", owner=CONSUMER, amount=500, currency="EUR"
    )
    paid = attack_net.flow(
        "consumer-1", "energy.Pay", recipient=PRODUCER, amount=10, currency="EUR"
    )
    assert len(paid["result"]["value"]["signatures"]) >= 4  # the payer and a quorum of replicas

    refused = attack_net.dlt(
        "localnet", "up", "--byzantine", f"{REPLICA_3}=discard,{REPLICA_4}=discard", check=False
    )
    assert refused.returncode == 1
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("dlt: error:")]
    assert "tolerate 1; use --allow-unsafe" in error

    attack_net.dlt("localnet", "up", "--byzantine", "none", timeout=300)
    (service,) = json.loads(
        attack_net.dlt("network", "notaries", "--node", "consumer-1", "--json").stdout
    )
    assert all(r["configured_fault"] is None for r in service["replicas"])


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


def test_one_equivocating_replica_gets_no_state_notarised_twice(attack_net, tmp_path):
    code, report, stderr = _attack(
        attack_net, tmp_path, "double-spend", "--mode", "equivocate", "--count", "16"
    )

    assert code == 0, stderr
    rows = {row["mode"]: row for row in report["rows"]}
    assert rows["no faults"]["accepted"] == 0
    assert rows["equivocate x1"]["accepted"] == 0
    assert rows["equivocate x1"]["attempts"] == 8
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


def test_two_equivocating_replicas_of_four_let_a_state_be_notarised_twice(attack_net, tmp_path):
    """Last in this module: what f + 1 faulty replicas break can outlast their row."""
    code, report, stderr = _attack(
        attack_net,
        tmp_path,
        "double-spend-unsafe",
        "--mode",
        "equivocate",
        "--count",
        "8",
        "--allow-unsafe",
    )

    assert code == 0, stderr
    (row,) = report["rows"]
    assert row["mode"] == "equivocate x2"
    assert row["unsafe"] is True
    assert row["accepted"] > 0
