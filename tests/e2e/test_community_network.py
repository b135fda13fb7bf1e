"""Meter attestation and the community simulator on a real local network (processes, TLS,
RabbitMQ): readings signed by the bootstrapper's meters, issuance refused beyond them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cordapp_energy.meters import Meter
from cordapp_energy.simulator.network import load_meter, network_facts
from cordapp_energy.states import DeliveryWindow
from dlt.encoding import encode
from dlt.identity import DevCertificateAuthority, X500Name

from .conftest import BANK, PRODUCER, Localnet

SOON = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
"""Noon tomorrow: within the validity of the meter certificates the bootstrapper issues now."""


@pytest.fixture(scope="module")
def metered(tmp_path_factory) -> Iterator[Localnet]:
    """One producer with its meter, one consumer; the rules require meter readings."""
    net = Localnet(tmp_path_factory.mktemp("metered") / "net")
    try:
        net.dlt("localnet", "up", "--producers", "1", "--consumers", "1", timeout=300)
        net.flow("market-operator", "energy.PublishCommunityRules", payment_issuer=BANK)
        yield net
    finally:
        net.dlt("localnet", "down", check=False, timeout=120)


def record(net: Localnet, meter: Meter, start: datetime, produced: int, consumed: int) -> str:
    notary, parameters_hash = network_facts(net.home)
    window = DeliveryWindow(start=start, end=start + timedelta(minutes=15))
    stx = meter.sign_reading(
        window, produced, consumed, notary=notary, parameters_hash=parameters_hash
    )
    result = net.dlt(
        "flow",
        "start",
        "--node",
        "producer-1",
        "--json",
        "energy.RecordMeterReading",
        f"transaction={base64.b64encode(encode(stx)).decode()}",
        check=False,
    )
    return result.stdout + result.stderr


def issue(net: Localnet, start: datetime, quantity_wh: int) -> subprocess.CompletedProcess[str]:
    return net.dlt(
        "flow",
        "start",
        "--node",
        "producer-1",
        "energy.RequestEnergy",
        f"quantity_wh={quantity_wh}",
        "energy_type=solar",
        f"window_start={start.isoformat()}",
        "price_per_kwh=10",
        check=False,
    )


def test_a_producer_issues_up_to_its_meters_reading_and_no_more(metered):
    meter = load_meter(metered.home, X500Name.parse(PRODUCER))
    record(metered, meter, SOON, 4_000, 1_000)

    assert issue(metered, SOON, 2_500).returncode == 0
    refused = issue(metered, SOON, 501)
    assert refused.returncode != 0
    assert "backs 500 Wh more" in refused.stderr + refused.stdout
    assert issue(metered, SOON + timedelta(minutes=15), 1).returncode != 0


def test_a_reading_from_a_meter_the_networks_doorman_did_not_admit_is_refused(metered):
    genuine = load_meter(metered.home, X500Name.parse(PRODUCER))
    rogue_ca = DevCertificateAuthority.create()
    cert, key = rogue_ca.enrol_meter(genuine.household.name)
    rogue = Meter(genuine.household, key, cert, rogue_ca.doorman_cert)
    start = SOON + timedelta(hours=1)

    assert "forged meter reading" in record(metered, rogue, start, 90_000, 0)
    assert issue(metered, start, 1_000).returncode != 0


def test_the_simulator_trades_midday_intervals_on_the_network_and_resumes(metered, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "cordapp_energy.simulator",
        "--network",
        str(metered.home),
        "--prosumers",
        "1",
        "--consumers",
        "1",
        "--intervals",
        "48:50",
        "--out",
        str(out),
        "--quiet",
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr + first.stdout
    lines = (out / "journal.jsonl").read_text().splitlines()
    outcomes = [json.loads(line) for line in lines[1:]]
    assert [o["interval"] for o in outcomes] == [48, 49]
    assert sum(o["settled_wh"] for o in outcomes) > 0
    assert all(o["failed_settlements"] == 0 for o in outcomes)
    assert (out / "run.png").stat().st_size > 0

    again = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr + again.stdout
    assert (out / "journal.jsonl").read_text().splitlines() == lines
