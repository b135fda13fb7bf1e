"""The explorer in headless Chromium on the shared local network, after a trading scenario: every
page shows what the node's RPC says, wrong credentials see nothing, and nothing changes the
ledger. A screenshot of each page is saved in the directory the first test prints.

Debian's Chromium (/usr/bin/chromium, installed by `make test`'s setup) is driven by
Playwright's client; Playwright's own browser downloads are never used.

The module trades on the session's shared network and checks pages against whatever the vaults
then hold, so it may run after anything; it is named to run after test_localnet.py, whose
tests expect vaults that only they have traded in.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dlt.rpc.client import FlowStatus, RpcClient, StateStatus, VaultQuery

DLT = str(Path(sys.executable).with_name("dlt"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PRODUCER = "O=Producer 1, L=Leeds, C=GB"
CONSUMER = "O=Consumer 1, L=York, C=GB"
WINDOW = "2026-09-01T10:00:00+00:00"
LATER_WINDOW = "2026-09-01T11:00:00+00:00"
PAGE_TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)


@dataclass
class Explorer:
    url: str
    node: str
    username: str
    password: str
    rpc_address: str
    ca_pem: bytes

    def rpc(self, work):
        """Run `work(client)` against the same node over its RPC, for the expected values; in
        a thread of its own, since Playwright's sync API keeps an event loop in this one."""

        async def run():
            async with RpcClient(self.rpc_address, self.username, self.password, self.ca_pem) as c:
                return await work(c)

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(run())).result()


def _explorer(home: Path, slug: str, url: str) -> Explorer:
    directory = next((home / "nodes").glob(f"{slug}-*"))
    rpc = json.loads((directory / "rpc.json").read_text())
    return Explorer(
        url=url,
        node=rpc["name"],
        username=rpc["username"],
        password=rpc["password"],
        rpc_address=rpc["address"],
        ca_pem=(directory / rpc["ca"]).read_bytes(),
    )


@pytest.fixture(scope="module")
def traded(localnet):
    """The shared network after money, a request-and-pay, an offer, a bid and a clearing."""
    localnet.flow(
        "community-bank", "energy.IssuePayment", owner=CONSUMER, amount=50_000, currency="EUR"
    )
    localnet.flow(
        "consumer-1",
        "energy.RequestAndPay",
        producer=PRODUCER,
        quantity_wh=2000,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=15,
    )
    localnet.flow(
        "producer-1",
        "energy.RequestEnergy",
        quantity_wh=3000,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=8,
    )
    localnet.flow(
        "producer-1",
        "energy.PlaceOffer",
        window_start=WINDOW,
        max_quantity_wh=3000,
        limit_price_per_kwh=8,
        energy_type="solar",
    )
    localnet.flow(
        "consumer-1",
        "energy.PlaceBid",
        window_start=WINDOW,
        max_quantity_wh=2500,
        limit_price_per_kwh=20,
        energy_type="solar",
    )
    localnet.flow("market-operator", "energy.ClearMarket", window_start=WINDOW)
    return localnet


@pytest.fixture(scope="module")
def operator_explorer(traded) -> Explorer:
    """The market operator's explorer, which `dlt localnet up` started."""
    rows = json.loads(traded.dlt("localnet", "status", "--json", check=False).stdout)
    (row,) = [row for row in rows if row["component"] == "explorer"]
    assert row["running"]
    return _explorer(traded.home, "market-operator", row["address"])


@pytest.fixture(scope="module")
def consumer_explorer(traded) -> Iterator[Explorer]:
    """`dlt explorer --node consumer-1`, started here and stopped at the end."""
    process = subprocess.Popen(
        [DLT, "explorer", "--node", "consumer-1", "--listen", "127.0.0.1:0"],
        env={**os.environ, "DLT_HOME": str(traded.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        assert "listening on https://127.0.0.1:" in line, (line, process.poll())
        yield _explorer(traded.home, "consumer-1", line.rsplit(" ", 1)[1].strip())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("explorer-screenshots")


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium with a fresh profile for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            ignore_https_errors=True,  # its certificate is checked against the root below
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        yield context
        context.close()


def logged_in(browser, explorer: Explorer):
    page = browser.new_page()
    page.goto(f"{explorer.url}/login")
    page.fill("input[name=username]", explorer.username)
    page.fill("input[name=password]", explorer.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{explorer.url}/transactions")
    return page


@pytest.fixture(scope="module")
def operator_page(browser, operator_explorer):
    page = logged_in(browser, operator_explorer)
    yield page
    page.close()


@pytest.fixture(scope="module")
def consumer_page(browser, consumer_explorer):
    page = logged_in(browser, consumer_explorer)
    yield page
    page.close()


def shoot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def texts(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


async def _all_transactions(client):
    page = await client.list_transactions(1, 500)
    return list(page.transactions)


# -- transport and login ----------------------------------------------------------------------


def test_the_explorer_is_served_over_tls_chained_to_the_network_root(operator_explorer, shots):
    print(f"explorer screenshots: {shots}")
    context = ssl.create_default_context(cadata=operator_explorer.ca_pem.decode())
    response = httpx.get(f"{operator_explorer.url}/login", verify=context, timeout=10)
    assert response.status_code == 200
    assert operator_explorer.url.startswith("https://127.0.0.1:")
    with pytest.raises(httpx.TransportError):  # plain HTTP is not answered
        httpx.get(operator_explorer.url.replace("https://", "http://") + "/login", timeout=10)


def test_wrong_credentials_get_a_login_refusal_and_no_data(browser, operator_explorer, shots):
    page = browser.new_page()
    try:
        page.goto(f"{operator_explorer.url}/login")
        page.fill("input[name=username]", operator_explorer.username)
        page.fill("input[name=password]", "not-the-password")
        with page.expect_response(f"{operator_explorer.url}/login") as answer:
            page.click("button[type=submit]")
        assert answer.value.status == 401
        assert "Login refused" in page.inner_text("#refused")
        shoot(page, shots, "login-refused")
        page.goto(f"{operator_explorer.url}/transactions")
        assert page.url == f"{operator_explorer.url}/login"
        assert page.locator("#transactions").count() == 0
    finally:
        page.close()


# -- transactions -----------------------------------------------------------------------------


def test_the_transactions_page_lists_what_the_rpc_lists(operator_page, operator_explorer, shots):
    expected = operator_explorer.rpc(_all_transactions)
    operator_page.goto(f"{operator_explorer.url}/transactions?size=500")
    shoot(operator_page, shots, "transactions")
    shown = operator_page.locator("#transactions tbody tr[data-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    assert shown == [tx.id for tx in reversed(expected)]
    assert operator_page.inner_text("#tx-total") == str(len(expected))


def test_a_transaction_shows_its_components_signatures_and_back_chain(
    operator_page, operator_explorer, shots
):
    matches = [
        tx
        for tx in operator_explorer.rpc(_all_transactions)
        if any(c["type"] == "energy.Match" for c in tx.transaction.data["commands"])
    ]
    tx = matches[-1]
    data = tx.transaction.data
    operator_page.goto(f"{operator_explorer.url}/transactions/{tx.id}")
    shoot(operator_page, shots, "transaction")

    assert operator_page.inner_text("#tx-id") == tx.id
    assert operator_page.inner_text("#tx-notary") == data["notary"]
    assert texts(operator_page, "#inputs a code") == data["inputs"]
    assert texts(operator_page, "#signatures td.signer") == [
        s["party"] or "unknown key" for s in data["signatures"]
    ]
    assert operator_page.locator("#groups tbody tr").count() == len(data["group_roots"])
    batches = [s["batch"] for s in data["signatures"] if s["batch"]]
    assert operator_page.locator("#signatures .batch").count() == len(batches)

    first_input = data["inputs"][0]
    operator_page.locator("#inputs a.backchain").first.click()
    operator_page.wait_for_url(f"**/transactions/{first_input.rpartition(':')[0]}")
    assert operator_page.inner_text("#tx-id") == first_input.rpartition(":")[0]


def test_search_by_id_prefix_finds_the_transaction(operator_page, operator_explorer):
    wanted = operator_explorer.rpc(_all_transactions)[0].id
    operator_page.goto(f"{operator_explorer.url}/transactions?q={wanted[:10]}")
    shown = operator_page.locator("#transactions tbody tr[data-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )
    assert wanted in shown
    assert all(tx_id.startswith(wanted[:10]) for tx_id in shown)
    operator_page.goto(f"{operator_explorer.url}/transactions?q={wanted}")
    assert operator_page.inner_text("#tx-id") == wanted


# -- vault ------------------------------------------------------------------------------------


def test_the_vault_page_applies_the_criteria_of_vault_query(
    consumer_page, consumer_explorer, shots
):
    query = VaultQuery(
        status=StateStatus.ALL,
        state_types=("energy.EnergyState",),
        page_size=500,
    )
    expected = consumer_explorer.rpc(lambda c: c.vault_query(query))
    consumer_page.goto(
        f"{consumer_explorer.url}/vault?type=energy.EnergyState&status=all&size=500"
        "&where_column=quantity_wh&where_op=%3E%3D&where_value=1"
    )
    shoot(consumer_page, shots, "vault")
    shown = consumer_page.locator("#states tbody tr[data-ref]").evaluate_all(
        "rows => rows.map(r => r.dataset.ref)"
    )
    assert sorted(shown) == sorted(s.ref for s in expected.states)
    assert consumer_page.inner_text("#vault-total") == str(expected.total_states_available)

    consumer_page.goto(
        f"{consumer_explorer.url}/vault?type=energy.EnergyState&status=all"
        "&where_column=quantity_wh&where_op=%3E%3D&where_value=lots"
    )
    assert "is not one" in consumer_page.inner_text("#error")


# -- flows ------------------------------------------------------------------------------------


def test_the_flows_page_shows_a_new_flow_live(consumer_page, consumer_explorer, traded, shots):
    consumer_page.goto(f"{consumer_explorer.url}/flows")
    consumer_page.wait_for_selector("#live:text-is('live')")  # the event stream is open
    before = consumer_explorer.rpc(lambda c: c.list_flows())
    assert consumer_page.inner_text("#flow-total") == str(len(before))
    hospitalised = [f for f in before if f.status is FlowStatus.HOSPITALISED]
    assert consumer_page.inner_text("#hospital-total") == str(len(hospitalised))

    started = traded.flow(
        "consumer-1",
        "energy.PlaceBid",
        window_start=LATER_WINDOW,
        max_quantity_wh=100,
        limit_price_per_kwh=5,
        energy_type="solar",
    )
    newest = max(consumer_explorer.rpc(lambda c: c.list_flows()), key=lambda f: f.started_at)
    row = consumer_page.locator(f"#flow-{newest.flow_id}")
    row.locator("td.status", has_text="completed").wait_for()
    shoot(consumer_page, shots, "flows")
    assert started is not None
    assert newest.flow_name == "energy.PlaceBid"


def test_a_flow_page_follows_the_flow_to_its_end(consumer_page, consumer_explorer, shots):
    flow = max(consumer_explorer.rpc(lambda c: c.list_flows()), key=lambda f: f.started_at)
    consumer_page.goto(f"{consumer_explorer.url}/flows/{flow.flow_id}")
    consumer_page.wait_for_selector("#live:has-text('finished')")
    shoot(consumer_page, shots, "flow")
    assert consumer_page.inner_text("#live") == f"finished: {flow.status.value}"
    assert consumer_page.inner_text("#flow-id") == flow.flow_id


# -- network and market -----------------------------------------------------------------------


def test_the_network_page_shows_every_peer_and_each_replica_up(
    operator_page, operator_explorer, shots
):
    network_map = operator_explorer.rpc(lambda c: c.network_map())
    operator_page.goto(f"{operator_explorer.url}/network")
    shoot(operator_page, shots, "network")
    assert texts(operator_page, "#peers td.peer") == [peer.name for peer in network_map.peers]
    replicas = [r for n in network_map.notaries for r in (n.replicas or (n.name,))]
    assert texts(operator_page, ".replicas td.replica") == list(replicas)
    assert set(texts(operator_page, ".replicas td.health")) == {"up"}


def test_the_market_page_shows_the_clearing_and_its_supply_and_demand(
    operator_page, operator_explorer, shots
):
    matches = [
        tx
        for tx in operator_explorer.rpc(_all_transactions)
        if any(c["type"] == "energy.Match" for c in tx.transaction.data["commands"])
    ]
    operator_page.goto(f"{operator_explorer.url}/market")
    shoot(operator_page, shots, "market-operator")
    for tx in matches:
        section = operator_page.locator(f'section.clearing[data-tx="{tx.id}"]')
        fills = next(c for c in tx.transaction.data["commands"] if c["type"] == "energy.Match")
        volume = sum(fill["quantity_wh"] for fill in fills["data"]["fills"])
        assert section.locator(".volume").inner_text() == str(volume)
        assert section.locator(".fills tbody tr").count() == len(fills["data"]["fills"])
        assert section.locator("canvas").get_attribute("data-drawn") == "yes"
    assert operator_page.inner_text("#clearing-total") == str(len(matches))


def test_the_market_page_shows_settlements_and_balances(consumer_page, consumer_explorer, shots):
    transactions = consumer_explorer.rpc(_all_transactions)
    settles = [
        tx.id
        for tx in transactions
        for c in tx.transaction.data["commands"]
        if c["type"] == "energy.Settle"
    ]
    money = consumer_explorer.rpc(
        lambda c: c.vault_query(VaultQuery(state_types=("energy.PaymentState",), page_size=500))
    )
    held = sum(
        s.data["amount"] for s in money.states if s.data["owner"]["name"] == consumer_explorer.node
    )
    consumer_page.goto(f"{consumer_explorer.url}/market")
    shoot(consumer_page, shots, "market-consumer")

    shown = consumer_page.locator("#settlements tbody tr[data-tx]").evaluate_all(
        "rows => rows.map(r => r.dataset.tx)"
    )
    assert shown == settles and settles
    rows = consumer_page.locator("#balances tbody tr")
    balances = {
        (row.locator(".owner").inner_text(), row.locator(".asset").inner_text()): int(
            row.locator(".current").inner_text()
        )
        for row in rows.all()
    }
    assert balances[(consumer_explorer.node, "money (EUR, minor units)")] == held
    chart = consumer_page.locator('canvas[data-chart="balances"]')
    assert chart.get_attribute("data-drawn") == "yes"


# -- read only --------------------------------------------------------------------------------


def test_nothing_in_the_explorer_changes_the_ledger(browser, consumer_page, consumer_explorer):
    async def counts(client):
        return (await client.list_transactions(1, 1)).total, len(await client.list_flows())

    before = consumer_explorer.rpc(counts)
    some_tx = consumer_explorer.rpc(_all_transactions)[0].id
    some_flow = consumer_explorer.rpc(lambda c: c.list_flows())[0].flow_id
    cookies = {c["name"]: c["value"] for c in browser.cookies(consumer_explorer.url)}
    paths = [
        "/",
        "/transactions",
        f"/transactions/{some_tx}",
        "/vault",
        "/flows",
        f"/flows/{some_flow}",
        "/network",
        "/market",
    ]
    with httpx.Client(base_url=consumer_explorer.url, verify=False, cookies=cookies) as client:
        assert client.get("/market").status_code == 200  # the session is valid
        for path in paths:
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                response = client.request(method, path, data={"flow_name": "energy.PlaceBid"})
                assert response.status_code == 405, (method, path)
    assert consumer_explorer.rpc(counts) == before
