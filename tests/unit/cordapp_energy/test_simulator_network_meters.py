"""The simulator on a local network replays only days its meters are certified for: a meter
attests only intervals within its certificate's validity, so other days would all be refused.
A local network dates its meters a year back, so the community's recorded days are covered."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from cordapp_energy.simulator.__main__ import _default_start, main
from cordapp_energy.simulator.network import first_metered_day
from cordapp_energy.simulator.profiles import CommunityParameters
from deploy.localnet import METERS_INSTALLED_BEFORE, Localnet, Shape


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A local network built offline; no process is started."""
    home = tmp_path_factory.mktemp("metered") / "net"
    Localnet(home).create(Shape(producers=2, consumers=1), lambda _: None)
    return home


def test_a_local_networks_meters_are_certified_from_a_year_back(home):
    installed = datetime.now(UTC) - METERS_INSTALLED_BEFORE
    assert first_metered_day(home) == installed.date() + timedelta(days=1)


def test_a_run_starts_on_the_communitys_first_day_when_the_meters_cover_it(home):
    parameters = CommunityParameters()
    args = argparse.Namespace(network=home)
    expected = max(parameters.start, first_metered_day(home))
    assert _default_start(args, parameters) == expected


def test_a_run_on_days_before_the_meters_were_admitted_is_refused_before_connecting(
    home, tmp_path, capsys
):
    community = ["--prosumers", "2", "--consumers", "1", "--quiet"]
    before = (datetime.now(UTC) - 2 * METERS_INSTALLED_BEFORE).date().isoformat()
    status = main(["--network", str(home), *community, "--start", before, "--out", str(tmp_path)])
    assert status == 2
    error = capsys.readouterr().err
    assert "the meter of O=Producer 1" in error
    assert f"pass --start {first_metered_day(home).isoformat()}" in error
    assert not (tmp_path / "journal.jsonl").exists()
