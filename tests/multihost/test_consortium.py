"""The consortium option: one RabbitMQ cluster of three members (one per host) with quorum
queues for the inboxes, instead of a broker per organisation; one member is killed mid-trade."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.multihost.network import CONSORTIUM_MEMBERS, ORGANISATIONS, MultihostNetwork
from dlt.rpc.client import FlowStatus

pytestmark = [pytest.mark.multihost, pytest.mark.consortium]

PRODUCER = "O=Solar Coop, L=Leeds, C=GB"
CONSUMER = "O=Household, L=York, C=GB"
BANK = "O=Community Bank, L=London, C=GB"
MARKET = "O=Market Operator, L=London, C=GB"
FINISHED = frozenset({FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.KILLED})
DOWN_SECONDS = 10


@pytest.fixture(scope="module")
def consortium(
    tmp_path_factory: pytest.TempPathFactory, figures: dict
) -> Iterator[MultihostNetwork]:
    net = MultihostNetwork(
        Path(tmp_path_factory.mktemp("consortium")), timeout=400, consortium=True
    )
    net.up()
    try:
        figures["consortium network up (s)"] = round(net.up_seconds)
        net.flow(
            "market",
            "energy.PublishCommunityRules",
            payment_issuer=BANK,
            require_meter_readings="false",  # the test hosts' households have no meters
        )
        net.flow("bank", "energy.IssuePayment", owner=CONSUMER, amount=100_000, currency="EUR")
        net.flow("bank", "energy.IssuePayment", owner=MARKET, amount=1_000, currency="EUR")
        net.hosts.delay_all(20, 5)
        yield net
    finally:
        net.down()


def test_the_cluster_has_a_member_on_each_of_three_hosts_and_quorum_inboxes(consortium):
    for host in CONSORTIUM_MEMBERS:
        recorded = json.loads((consortium.broker_home(host) / "cluster.json").read_text())
        assert recorded["members"] == sorted(
            f"dlt-consortium@{consortium.address(h)}" for h in CONSORTIUM_MEMBERS
        )
        inboxes = {q: t for q, t in recorded["queues"].items() if q.startswith("p2p.inbound.")}
        assert len(inboxes) >= 2 * len(ORGANISATIONS)
        assert set(inboxes.values()) == {"quorum"}


def test_a_broker_node_killed_mid_trade_loses_nothing_and_the_others_trade_on(consortium, figures):
    quantity = 5_555

    async def scenario() -> tuple[float, float]:
        async with consortium.rpc("consumer") as consumer, consortium.rpc("market") as market:
            run = await consumer.start_flow(
                "energy.RequestAndPay",
                {
                    "producer": PRODUCER,
                    "quantity_wh": quantity,
                    "energy_type": "solar",
                    "window_start": "2026-06-03T12:00:00+00:00",
                    "price_per_kwh": 15,
                },
            )
            run.detach()
            killed_at = time.monotonic()
            consortium.kill_broker_node("producer")
            status = (await consumer.flow_status(run.flow_id)).status
            assert status not in FINISHED, "the DvP finished before the kill; nothing was tested"
            began = time.perf_counter()
            pay = await market.start_flow(
                "energy.Pay", {"recipient": BANK, "amount": 9, "currency": "EUR"}
            )
            steps: list[str] = []

            async def paid() -> None:
                async for step in pay.progress():
                    steps.append(f"{time.perf_counter() - began:.1f} s: {step}")
                await pay.result()

            try:
                await asyncio.wait_for(paid(), timeout=120)
            except TimeoutError:
                info = await market.flow_status(pay.flow_id)
                pytest.fail(
                    "the market's Pay did not finish within 120 s while the producer's broker "
                    f"node was down ({info.status.name}); its steps: {steps}\n"
                    + _warnings(consortium)
                )
            paid_s = time.perf_counter() - began
            await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - killed_at)))
            await asyncio.to_thread(consortium.restart_broker, "producer")
            restarted = time.monotonic()
            while (info := await consumer.flow_status(run.flow_id)).status not in FINISHED:
                assert time.monotonic() < restarted + 240, f"the DvP did not finish: {info}"
                await asyncio.sleep(0.5)
            assert info.status is FlowStatus.COMPLETED, info.error_message
            return paid_s, time.monotonic() - restarted

    paid_s, after_s = asyncio.run(scenario())

    bought = [
        s
        for s in consortium.states("consumer", "energy.EnergyState")
        if s["owner"]["name"] == CONSUMER and s["quantity_wh"] == quantity
    ]
    assert len(bought) == 1
    issued = consortium.states("producer", "energy.EnergyState", status="all")
    assert sum(1 for s in issued if s["quantity_wh"] == quantity) == 1
    figures["consortium: payment among the others with a broker member down (s)"] = round(paid_s, 2)
    figures["consortium: DvP with the killed member's node finished after its restart (s)"] = round(
        after_s, 1
    )


def _warnings(net: MultihostNetwork, last: int = 25) -> str:
    """The last warnings of every node that is not on the killed broker's host: what a stuck
    flow's failure should show, since the suite's later networks replace these logs. Failed
    reconnections to the killed member come every few seconds and would hide the rest."""
    lines = []
    for org in ORGANISATIONS:
        if org.host == "producer":
            continue
        for directory in (net.node_dir(org), net.replica_dir(org)):
            log = directory / "node.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            found = [
                line
                for line in text.splitlines()
                if (" WARNING " in line or " ERROR " in line) and "Connection refused" not in line
            ]
            lines.append(f"{directory.name}:")
            lines.extend(f"  {line[:400]}" for line in found[-last:])
    return "\n".join(lines)
