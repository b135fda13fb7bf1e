"""`make demo` on real processes: its output fits 120 columns, and `dlt vault balance` on the
network it leaves adds up exactly the states each node owns."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import DLT, Localnet

ROOT = Path(__file__).resolve().parents[2]
PARTIES = (
    "producer-1",
    "producer-2",
    "consumer-1",
    "consumer-2",
    "market-operator",
    "community-bank",
)
OPENING_MONEY = 100_000
"""What the demo's bank issues to each consumer."""


@dataclass
class Demo:
    net: Localnet
    output: str
    balances: dict[str, dict] = field(default_factory=dict)

    def balance(self, node: str) -> dict:
        """`dlt vault balance --json` of `node`, asked once (the network is idle after the demo)."""
        if node not in self.balances:
            result = self.net.dlt("vault", "balance", "--node", node, "--json")
            self.balances[node] = json.loads(result.stdout)
        return self.balances[node]

    def name(self, node: str) -> str:
        return self.balance(node)["party"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    """deploy/demo.sh run as `make demo` runs it, its stdout and stderr read as one terminal."""
    net = Localnet(tmp_path_factory.mktemp("demo") / "net")
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env.update({"DLT_HOME": str(net.home), "DLT": DLT, "NO_COLOR": "1"})
    try:
        run = subprocess.run(
            ["bash", str(ROOT / "deploy" / "demo.sh")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=420,
        )
        assert run.returncode == 0, run.stdout[-4000:]
        yield Demo(net, run.stdout)
    finally:
        net.dlt("localnet", "down", check=False, timeout=120)


def test_every_line_the_demo_prints_fits_in_120_columns(demo):
    long_lines = [line for line in demo.output.splitlines() if len(line) > 120]

    assert long_lines == []
    assert "\x1b" not in demo.output


def test_the_demo_ends_with_the_balance_of_every_party(demo):
    ending = demo.output[demo.output.index("What every party holds") :]

    for node in PARTIES:
        assert f"$ dlt vault balance --node {node}\nBalance of O=" in ending
    assert "Energy trades (what was paid):" in ending


def owned_sums(net: Localnet, node: str, owner: str) -> Counter:
    """Per asset group, the sum of the owned unconsumed states, straight from `vault query`."""
    query = net.dlt(
        "vault",
        "query",
        "--node",
        node,
        "--type",
        "energy.EnergyState",
        "--type",
        "energy.PaymentState",
        "--page-size",
        "1000",
        "--json",
    )
    sums: Counter = Counter()
    for entry in json.loads(query.stdout)["states"]:
        state = entry["state"]["value"]["data"]
        if state["owner"]["name"] != owner:
            continue
        if entry["state_type"] == "energy.EnergyState":
            sums[("energy", state["energy_type"], state["window"]["start"])] += state["quantity_wh"]
        else:
            sums[("money", state["issuer"]["name"], state["currency"])] += state["amount"]
    return sums


def balance_sums(balance: dict, section: str = "owned") -> Counter:
    sums: Counter = Counter()
    for entry in balance[section]:
        if entry["asset"] == "energy":
            key = ("energy", entry["energy_type"], entry["window"]["start"])
        else:
            key = ("money", entry["issuer"], entry["currency"])
        sums[key] += entry["amount"]
    return sums


@pytest.mark.parametrize("node", PARTIES)
def test_balance_totals_equal_the_sums_of_the_owned_states_queried_by_rpc(demo, node):
    owner = demo.name(node)

    balance = demo.balance(node)

    assert balance["party"] == owner
    assert balance_sums(balance) == owned_sums(demo.net, node, owner)


def test_a_producer_sees_the_energy_it_issued_to_consumers_apart_from_its_own(demo):
    producer = demo.balance("producer-1")

    owners = {entry["owner"] for entry in producer["participating"]}
    assert owners == {demo.name("consumer-1"), demo.name("consumer-2")}
    assert [e for e in producer["owned"] if e["asset"] == "energy"] == []


def test_a_consumers_bill_accounts_for_every_cent_it_spent(demo):
    consumer = demo.balance("consumer-1")

    spent = OPENING_MONEY - sum(e["amount"] for e in consumer["owned"] if e["asset"] == "money")
    bought = [trade for trade in consumer["trades"] if trade["side"] == "bought"]
    assert {trade["price"] for trade in bought} == {15, 11}
    assert sum(trade["paid"] for trade in bought) == spent > 0
    energy = sum(e["amount"] for e in consumer["owned"] if e["asset"] == "energy")
    assert sum(trade["quantity"] for trade in bought) == energy


def test_what_the_producers_sold_is_what_the_consumers_bought(demo):
    sold = sorted(
        (t["tx_id"], t["quantity"], t["paid"])
        for node in ("producer-1", "producer-2")
        for t in demo.balance(node)["trades"]
        if t["side"] == "sold"
    )
    bought = sorted(
        (t["tx_id"], t["quantity"], t["paid"])
        for node in ("consumer-1", "consumer-2")
        for t in demo.balance(node)["trades"]
        if t["side"] == "bought"
    )

    assert sold == bought
    assert len(sold) == 4


def test_the_balance_is_a_table_that_fits_an_80_column_terminal(demo):
    result = demo.net.dlt("vault", "balance", "--node", "consumer-1", env={"COLUMNS": "80"})

    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "Money held:" in result.stdout
