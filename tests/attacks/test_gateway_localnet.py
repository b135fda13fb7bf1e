"""The gateway attack on a real local network, by both adversaries (several minutes)."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from attacks.gateway.run import run_gateway_attack

pytestmark = pytest.mark.attacks
DLT = str(Path(sys.executable).with_name("dlt"))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    home = tmp_path_factory.mktemp("gateway") / "net"
    up = [DLT, "localnet", "up", "--home", str(home), "--notaries", "2", "--consumers", "3"]
    subprocess.run(up, check=True, capture_output=True, timeout=600)
    try:
        found = asyncio.run(run_gateway_attack(home, lambda _: None))
        (home.parent / "gateway.json").write_text(json.dumps(found.as_json(), indent=2))
        yield {(r.adversary, r.mitigation): r for r in found.runs}
    finally:
        subprocess.run([DLT, "localnet", "down", "--home", str(home)], timeout=300, check=False)


def _equilibrium(run):
    return run.outcome.clearing_price, run.outcome.cleared_wh


def test_the_honest_window_clears_at_the_competitive_equilibrium(result):
    honest = result[("none", "-")]
    assert _equilibrium(honest) == (10, 6000)
    assert honest.outcome.sold_wh == {"producer-1": 3000, "producer-2": 3000}


def test_a_broker_operator_reading_bodies_drops_the_competitor_and_moves_the_market(result):
    run = result[("broker operator (content)", "sealing off")]
    assert run.observed["matched"] >= 1
    assert [f"{s.party} {s.side}" for s in run.outcome.lost] == ["producer-2 offer"]
    assert _equilibrium(run) == (14, 5000)
    found = run.as_json(result[("none", "-")].outcome)["distortion"]
    assert found["measured_delta_q_wh"] == 2000
    assert math.isclose(found["paper_delta_q_wh"], found["measured_delta_q_wh"], abs_tol=1)


def test_with_sealing_its_content_rule_matches_nothing_and_nothing_is_lost(result):
    run = result[("broker operator (content)", "sealing on")]
    assert run.observed["matched"] == 0 and run.observed["seen_to_market_operator"] > 0
    assert run.outcome.lost == []
    assert _equilibrium(run) == _equilibrium(result[("none", "-")])


def test_sealing_leaves_it_the_envelope_so_it_can_still_censor_a_sender_wholesale(result):
    run = result[("broker operator (envelope)", "sealing on (residual)")]
    assert [f"{s.party} {s.side}" for s in run.outcome.lost] == ["producer-2 offer"]


def test_a_tcp_gateway_cannot_lose_an_order_when_orders_resubmit(result):
    attacked = result[("TCP gateway (size, timing)", "resubmission off")]
    mitigated = result[("TCP gateway (size, timing)", "resubmission on")]
    assert attacked.observed["cut_connections"] >= 1 and mitigated.observed["cut_connections"] >= 1
    assert mitigated.outcome.lost == []
    assert _equilibrium(mitigated) == _equilibrium(result[("none", "-")])
