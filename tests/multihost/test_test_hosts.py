"""The test hosts themselves: namespaces with their own addresses, WAN delay, cuts, teardown."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from deploy.multihost.netns import TestHosts

pytestmark = pytest.mark.usefixtures("hosts_available")

NAMES = ("operator", "producer", "consumer", "bank", "market")


@pytest.fixture
def hosts():
    with TestHosts(NAMES) as made:
        yield made


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_five_hosts_each_have_their_own_address_and_reach_each_other(hosts):
    addresses = {name: hosts[name].address for name in NAMES}

    assert len(set(addresses.values())) == len(NAMES)
    for name in NAMES:
        shown = hosts.run(name, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout
        assert f"{addresses[name]}/24" in shown
    assert all(hosts.reachable("producer", address) for address in addresses.values())
    assert hosts.reachable("bank", hosts.gateway)


def test_traffic_cannot_leave_the_test_hosts(hosts):
    routes = hosts.run("consumer", ["ip", "-4", "route", "show"]).stdout

    assert "default" not in routes
    assert not hosts.reachable("consumer", "192.0.2.1")
    assert not hosts.reachable("consumer", "1.1.1.1")


def test_added_delay_shows_in_every_round_trip(hosts):
    hosts.delay_all(20, 5)

    trips = hosts.round_trips_ms("consumer", hosts["producer"].address, count=10)

    assert len(trips) == 10
    assert 30 <= statistics.median(trips) <= 80


def test_a_cut_host_is_unreachable_until_healed_and_keeps_its_loopback(hosts):
    producer = hosts["producer"].address

    with hosts.partitioned("producer"):
        assert not hosts.reachable("bank", producer)
        assert not hosts.reachable("producer", hosts["bank"].address)
        assert hosts.reachable("producer", producer)
        assert hosts.reachable("bank", hosts["market"].address)

    assert hosts.reachable("bank", producer)


def test_closing_stops_what_runs_on_the_hosts_and_removes_them(tmp_path):
    hosts = TestHosts(NAMES)
    hosts.open()
    sleeper = hosts.spawn(
        "bank", [sys.executable, "-c", "import time; time.sleep(600)"], tmp_path / "log"
    )
    namespaces = [hosts[name].namespace for name in NAMES]

    hosts.close()

    assert sleeper.poll() is not None
    listed = _namespaces()
    assert not any(namespace in listed for namespace in namespaces)
    hosts.close()  # a second close is harmless
