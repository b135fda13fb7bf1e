"""Every node exposes Prometheus metrics for its flows, messages and vault."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from dlt.flows import CounterpartyFlowError
from fixtures.flows import PingFlow, RefuseFlow
from sample_cordapp import IssueTokensFlow


def sample(node, name, **labels):
    value = node.node.metrics.registry.get_sample_value(name, labels or None)
    return value or 0.0


async def test_flow_counts_and_durations_are_recorded(network):
    alice = network.create_node("O=Alice, L=Leeds, C=GB")
    bob = network.create_node("O=Bob, L=York, C=GB")
    await network.start()

    await alice.run(PingFlow(peer=bob.name, count=2))
    await network.settle()

    assert sample(alice, "dlt_flows_started_total", flow="test.Ping") == 1
    assert sample(alice, "dlt_flows_finished_total", flow="test.Ping") == 1
    assert sample(alice, "dlt_flow_duration_seconds_count", flow="test.Ping") == 1
    assert sample(bob, "dlt_flows_finished_total", flow="test.Ping#responder") == 1
    assert sample(alice, "dlt_flows_in_flight") == 0


async def test_failed_flows_are_counted(network):
    alice = network.create_node("O=Alice, L=Leeds, C=GB")
    bob = network.create_node("O=Bob, L=York, C=GB")
    await network.start()

    with pytest.raises(CounterpartyFlowError):
        await alice.run(RefuseFlow(peer=bob.name))
    await network.settle()

    assert sample(alice, "dlt_flows_failed_total", flow="test.Refuse") == 1


async def test_messages_and_latency_are_recorded(network):
    alice = network.create_node("O=Alice, L=Leeds, C=GB")
    bob = network.create_node("O=Bob, L=York, C=GB")
    await network.start()

    await alice.run(PingFlow(peer=bob.name, count=3))
    await network.settle()

    assert sample(alice, "dlt_p2p_messages_sent_total") >= 4
    assert sample(bob, "dlt_p2p_messages_received_total") >= 4
    assert sample(bob, "dlt_p2p_receive_latency_seconds_count") >= 4


async def test_vault_state_counts_are_exposed(network):
    network.create_notary()
    issuer = network.create_node("O=Grid Bank, L=London, C=GB")
    alice = network.create_node("O=Alice, L=Leeds, C=GB")
    await network.start()

    await issuer.run(IssueTokensFlow(owner=alice.name, amount=5))
    await network.settle()

    assert sample(alice, "dlt_vault_states", status="unconsumed") == 1
    assert b"dlt_vault_states" in generate_latest(alice.node.metrics.registry)
