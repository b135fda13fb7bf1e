"""A four-replica notary cluster on a real local network: one replica down, trading goes on."""

from __future__ import annotations

import json

from .conftest import CONSUMER, PRODUCER

REPLICA_2 = "O=Notary Service, OU=Replica 2, L=Zurich, C=CH"


def test_the_cluster_shows_its_replicas_and_their_health(cluster_localnet):
    cluster_localnet.dlt("localnet", "kill", REPLICA_2)

    services = json.loads(
        cluster_localnet.dlt("network", "notaries", "--node", "consumer-1", "--json").stdout
    )

    (service,) = services
    assert service["quorum"] == 3
    health = {replica["name"]: replica["healthy"] for replica in service["replicas"]}
    assert len(health) == 4
    assert [name for name, healthy in health.items() if not healthy] == [
        "OU=Replica 2, O=Notary Service, L=Zurich, C=CH"
    ]


def test_with_one_replica_down_trading_continues_and_double_spends_are_refused(cluster_localnet):
    issued = cluster_localnet.flow(
        "community-bank", "energy.IssuePayment", owner=CONSUMER, amount=10_000, currency="EUR"
    )
    coin = f"{issued['result']['value']['id']}:0"
    paid = cluster_localnet.flow(
        "consumer-1",
        "energy.RequestAndPay",
        producer=PRODUCER,
        quantity_wh=2_000,
        energy_type="solar",
        window_start="2026-06-01T12:00:00+00:00",
        price_per_kwh=15,
    )
    assert cluster_localnet.owned("consumer-1", CONSUMER, "energy.EnergyState", "quantity_wh") == [
        2_000
    ]

    attempt = cluster_localnet.dlt(
        "flow",
        "start",
        "--node",
        "consumer-1",
        "attack.Respend",
        f"ref={coin}",
        f"new_owner={PRODUCER}",
        check=False,
    )

    assert attempt.returncode == 1
    assert "double spend" in attempt.stderr
    assert paid["result"]["value"]["id"] in attempt.stderr
    assert cluster_localnet.owned("producer-1", PRODUCER, "energy.PaymentState", "amount") == [30]
