"""Trading across hosts: an operator and four organisations, each on its own network namespace
with its own broker, node and PostgreSQL, and a four-replica BFT notary spread over them.

The network is made the way DEPLOYMENT.md tells an organisation to join: `dlt node init` with
the doorman URL and the network root only, the operator's approval, `dlt broker init/start`,
`dlt node run`.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.multihost.network import ORGANISATIONS, MultihostNetwork
from dlt.rpc.client import FlowStatus

pytestmark = pytest.mark.multihost

PRODUCER = "O=Solar Coop, L=Leeds, C=GB"
CONSUMER = "O=Household, L=York, C=GB"
BANK = "O=Community Bank, L=London, C=GB"
MARKET = "O=Market Operator, L=London, C=GB"
DELAY_MS, JITTER_MS = 20, 5
CUT_SECONDS = 15
FINISHED = frozenset({FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.KILLED})


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, figures: dict) -> Iterator[MultihostNetwork]:
    net = MultihostNetwork(Path(tmp_path_factory.mktemp("multihost")), timeout=400)
    net.up()
    try:
        figures["network up (s), from bootstrap to all nodes seeing each other"] = round(
            net.up_seconds
        )
        net.flow(
            "market",
            "energy.PublishCommunityRules",
            payment_issuer=BANK,
            require_meter_readings="false",  # the test hosts' households have no meters
        )
        net.flow("bank", "energy.IssuePayment", owner=CONSUMER, amount=1_000_000, currency="EUR")
        yield net
    finally:
        net.down()


def _dvp(network: MultihostNetwork, quantity_wh: int, window: str) -> tuple[object, float]:
    return network.timed_flow(
        "consumer",
        "energy.RequestAndPay",
        producer=PRODUCER,
        quantity_wh=quantity_wh,
        energy_type="solar",
        window_start=window,
        price_per_kwh=15,
    )


def _owned(network: MultihostNetwork, host: str, state_type: str, owner: str) -> list[dict]:
    return [s for s in network.states(host, state_type) if s["owner"]["name"] == owner]


def _unfinished_flows(network: MultihostNetwork) -> dict[str, list[str]]:
    async def unfinished(host: str) -> list[str]:
        async with network.rpc(host) as client:
            flows = await client.list_flows()
        return [f"{f.flow_name} {f.status}" for f in flows if f.status is not FlowStatus.COMPLETED]

    return {org.host: asyncio.run(unfinished(org.host)) for org in ORGANISATIONS}


def test_each_organisation_joined_through_the_doorman_and_advertises_its_own_broker(network):
    assert network.pending_tickets() == {}

    async def brokers() -> dict[str, str]:
        async with network.rpc("market") as client:
            peers = (await client.network_map()).peers
        return {peer.name: address for peer in peers for address in peer.addresses}

    advertised = asyncio.run(brokers())
    for org in ORGANISATIONS:
        node_addresses = [a for name, a in advertised.items() if name == org.name]
        assert node_addresses and node_addresses[0].startswith(network.broker_url(org))
    assert len({a.split("#")[0] for a in advertised.values()}) == len(ORGANISATIONS)


def test_dvp_and_market_clearing_complete_across_hosts_with_wan_latency(network, figures):
    window = "2026-06-01T12:00:00+00:00"
    _dvp(network, 999, window)  # warm-up: the first trade opens the connections between brokers
    lan = [_dvp(network, 1_000 + i, window)[1] for i in range(3)]
    network.hosts.delay_all(DELAY_MS, JITTER_MS)
    rtt = network.hosts.round_trips_ms("consumer", network.address("producer"), count=10)
    wan = [_dvp(network, 2_000 + i, window)[1] for i in range(5)]

    energy = _owned(network, "consumer", "energy.EnergyState", CONSUMER)
    assert {1_000, 1_001, 1_002, 2_000, 2_001, 2_002, 2_003, 2_004} <= {
        s["quantity_wh"] for s in energy
    }

    clearing_window = "2026-06-01T13:00:00+00:00"
    network.flow(
        "producer",
        "energy.RequestEnergy",
        quantity_wh=3_000,
        energy_type="solar",
        window_start=clearing_window,
        price_per_kwh=8,
    )
    network.flow(
        "producer",
        "energy.PlaceOffer",
        window_start=clearing_window,
        max_quantity_wh=3_000,
        limit_price_per_kwh=8,
        energy_type="solar",
    )
    network.flow(
        "consumer",
        "energy.PlaceBid",
        window_start=clearing_window,
        max_quantity_wh=2_500,
        limit_price_per_kwh=20,
        energy_type="solar",
    )
    report, clearing_s = network.timed_flow(
        "market", "energy.ClearMarket", window_start=clearing_window
    )
    data = report.data  # type: ignore[attr-defined]
    assert (data["bids"], data["offers"], data["cleared_wh"]) == (1, 1, 2_500)
    assert all(s["tx_id"] for s in data["settlements"])

    figures["tcp round trip consumer->producer with 20±5 ms added each way (ms, median)"] = round(
        statistics.median(rtt), 1
    )
    figures["DvP latency without added delay (s, each)"] = [round(x, 2) for x in lan]
    figures["DvP latency with 20±5 ms per hop (s, each)"] = [round(x, 2) for x in wan]
    figures["DvP latency with 20±5 ms per hop (s, median)"] = round(statistics.median(wan), 2)
    figures["market clearing (1 bid, 1 offer, settled) with 20±5 ms per hop (s)"] = round(
        clearing_s, 2
    )


def test_a_cut_organisation_completes_its_trade_exactly_once_after_the_heal(network, figures):
    """The producer's host (its broker, node and notary replica 1) is cut off while a DvP with
    it is under way; the market operator pays the bank meanwhile, notarised by the three
    replicas it reaches."""
    window = "2026-06-02T12:00:00+00:00"
    quantity = 3_333
    network.flow("bank", "energy.IssuePayment", owner=MARKET, amount=1_000, currency="EUR")

    async def scenario() -> tuple[str, dict, float, float]:
        async with network.rpc("consumer") as consumer, network.rpc("market") as market:
            run = await consumer.start_flow(
                "energy.RequestAndPay",
                {
                    "producer": PRODUCER,
                    "quantity_wh": quantity,
                    "energy_type": "solar",
                    "window_start": window,
                    "price_per_kwh": 15,
                },
            )
            run.detach()
            cut_at = time.monotonic()
            network.hosts.cut("producer")
            try:
                began = time.perf_counter()
                paid = await asyncio.wait_for(
                    market.run_flow(
                        "energy.Pay", {"recipient": BANK, "amount": 77, "currency": "EUR"}
                    ),
                    timeout=120,
                )
                pay_s = time.perf_counter() - began
                status = (await consumer.flow_status(run.flow_id)).status
                assert status not in FINISHED, "the DvP finished before the cut; nothing was tested"
                await asyncio.sleep(max(0.0, CUT_SECONDS - (time.monotonic() - cut_at)))
            finally:
                network.hosts.heal("producer")
            healed_at = time.monotonic()
            deadline = healed_at + 240
            while (info := await consumer.flow_status(run.flow_id)).status not in FINISHED:
                assert time.monotonic() < deadline, f"the DvP did not finish: {info}"
                await asyncio.sleep(0.5)
            assert info.status is FlowStatus.COMPLETED, info.error_message
            return run.flow_id, paid.data, pay_s, time.monotonic() - healed_at  # type: ignore[union-attr]

    _, paid, pay_s, after_heal_s = asyncio.run(scenario())

    signers = {signature["party"] for signature in paid["signatures"]}
    assert not any("Replica 1" in signer for signer in signers)
    assert sum("Replica" in signer for signer in signers) >= 3
    bought = [
        s
        for s in _owned(network, "consumer", "energy.EnergyState", CONSUMER)
        if s["quantity_wh"] == quantity
    ]
    assert len(bought) == 1
    issued = network.states("producer", "energy.EnergyState", status="all")
    assert sum(1 for s in issued if s["quantity_wh"] == quantity) == 1
    assert _unfinished_flows(network) == {org.host: [] for org in ORGANISATIONS}
    figures[f"payment among the others during a {CUT_SECONDS} s cut of the producer (s)"] = round(
        pay_s, 2
    )
    figures["DvP with the cut producer: finished after the heal in (s)"] = round(after_heal_s, 1)
