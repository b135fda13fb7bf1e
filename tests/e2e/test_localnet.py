"""The paper's flows through the CLI on a real local network, and a party killed mid-flow."""

from __future__ import annotations

import json
import time

from .conftest import CONSUMER, PRODUCER

WINDOW = "2026-06-01T12:00:00+00:00"


def test_the_papers_flows_leave_exactly_the_expected_states_in_every_vault(localnet):
    localnet.flow(
        "community-bank", "energy.IssuePayment", owner=CONSUMER, amount=100_000, currency="EUR"
    )
    requested = localnet.flow(
        "producer-1",
        "energy.RequestEnergy",
        quantity_wh=1_000,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=9,
    )
    tx_id = requested["result"]["value"]["id"]
    localnet.flow("producer-1", "energy.TransferEnergy", ref=f"{tx_id}:0", new_owner=CONSUMER)
    localnet.flow(
        "consumer-1",
        "energy.RequestAndPay",
        producer=PRODUCER,
        quantity_wh=2_000,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=15,
    )
    fractions = localnet.flow(
        "producer-1",
        "energy.RequestEnergy",
        quantity_wh=900,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=9,
    )
    localnet.flow(
        "producer-1",
        "energy.RepeatedPay",
        ref=f"{fractions['result']['value']['id']}:0",
        new_owner=CONSUMER,
        parts=3,
    )

    assert localnet.owned("consumer-1", CONSUMER, "energy.EnergyState", "quantity_wh") == [
        300,
        300,
        300,
        1_000,
        2_000,
    ]
    assert localnet.owned("producer-1", PRODUCER, "energy.EnergyState", "quantity_wh") == []
    assert localnet.owned("consumer-1", CONSUMER, "energy.PaymentState", "amount") == [100_000 - 30]
    assert localnet.owned("producer-1", PRODUCER, "energy.PaymentState", "amount") == [30]
    issued_by_producer = localnet.states("producer-1", "energy.EnergyState")
    assert sum(s["quantity_wh"] for s in issued_by_producer) == 1_000 + 2_000 + 900


def test_bad_flow_arguments_fail_with_a_clear_error_and_a_non_zero_exit(localnet):
    result = localnet.dlt(
        "flow",
        "start",
        "--node",
        "producer-1",
        "energy.RequestEnergy",
        "quantity_wh=-5",
        "energy_type=solar",
        f"window_start={WINDOW}",
        "price_per_kwh=9",
        check=False,
    )

    assert result.returncode == 1
    assert "quantity_wh" in result.stderr
    assert "greater than 0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_party_killed_mid_flow_completes_it_exactly_once_after_restart(localnet):
    localnet.flow(
        "community-bank", "energy.IssuePayment", owner=CONSUMER, amount=5_000, currency="EUR"
    )
    issued = localnet.flow(
        "producer-1",
        "energy.RequestEnergy",
        quantity_wh=1_200,
        energy_type="wind",
        window_start="2026-06-02T12:00:00+00:00",
        price_per_kwh=9,
    )
    before = localnet.owned("consumer-1", CONSUMER, "energy.EnergyState", "quantity_wh")
    started = localnet.dlt(
        "flow",
        "start",
        "--node",
        "producer-1",
        "--no-wait",
        "--json",
        "energy.RepeatedPay",
        f"ref={issued['result']['value']['id']}:0",
        f"new_owner={CONSUMER}",
        "parts=12",
    )
    flow_id = json.loads(started.stdout)["flow_id"]
    deadline = time.monotonic() + 60
    while (
        len(localnet.owned("consumer-1", CONSUMER, "energy.EnergyState", "quantity_wh"))
        < len(before) + 2
    ):
        assert time.monotonic() < deadline, "the flow made no progress"
        time.sleep(0.2)

    localnet.dlt("localnet", "kill", "producer-1")
    localnet.dlt("localnet", "up", timeout=300)

    deadline = time.monotonic() + 120
    while True:
        status = json.loads(
            localnet.dlt("flow", "status", "--node", "producer-1", "--json", flow_id).stdout
        )
        if status["status"] != "runnable":
            break
        assert time.monotonic() < deadline, "the flow did not finish after the restart"
        time.sleep(0.5)
    assert status["status"] == "completed", status
    after = localnet.owned("consumer-1", CONSUMER, "energy.EnergyState", "quantity_wh")
    received = list(after)
    for quantity in before:
        received.remove(quantity)
    assert sorted(received) == [100] * 12
    assert localnet.owned("producer-1", PRODUCER, "energy.EnergyState", "quantity_wh") == []
