"""The simulator on a local network replays only days its meters are certified for: a meter
attests only intervals within its certificate's validity, so other days would all be refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cordapp_energy.simulator.__main__ import main
from cordapp_energy.simulator.network import first_metered_day
from deploy.localnet import Localnet, Shape


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A local network built offline, its meters admitted now; no process is started."""
    home = tmp_path_factory.mktemp("metered") / "net"
    Localnet(home).create(Shape(producers=2, consumers=1), lambda _: None)
    return home


def test_a_run_starts_on_the_first_whole_day_the_networks_meters_cover(home):
    assert first_metered_day(home) == (datetime.now(UTC) + timedelta(days=1)).date()


def test_a_run_on_days_before_the_meters_were_admitted_is_refused_before_connecting(
    home, tmp_path, capsys
):
    community = ["--prosumers", "2", "--consumers", "1", "--quiet"]
    june = ["--start", "2026-06-01", "--out", str(tmp_path / "run")]
    status = main(["--network", str(home), *community, *june])
    assert status == 2
    error = capsys.readouterr().err
    assert "the meter of O=Producer 1" in error
    assert f"pass --start {first_metered_day(home).isoformat()}" in error
    assert not (tmp_path / "run" / "journal.jsonl").exists()
