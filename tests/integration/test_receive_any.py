"""Receiving from whichever of several sessions answers first, durably."""

from __future__ import annotations

from dlt.messaging.in_memory import Fault
from fixtures.crashes import run_through_crash
from fixtures.flows import RaceFlow, effect_count


async def three_nodes(network):
    nodes = [network.create_node(f"O={name}, L=Leeds, C=GB") for name in ("Alice", "Bob", "Carol")]
    await network.start()
    return nodes


async def test_the_first_answer_is_taken_first(network):
    alice, bob, carol = await three_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: sender == bob.name, delay=0.3))

    order = await alice.run(RaceFlow(peers=(bob.name, carol.name)))

    assert order == ["Carol", "Bob"]


async def test_nothing_arriving_in_time_is_reported_as_a_timeout(network):
    alice, bob, carol = await three_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: sender != alice.name, drop=True))

    order = await alice.run(RaceFlow(peers=(bob.name, carol.name), timeout=0.2))

    assert order == ["timeout"]


async def test_a_replay_after_a_crash_follows_the_journaled_order(tmp_path):
    from dlt.testing.mock_network import MockNetwork

    for step in range(4):
        network = MockNetwork(tmp_path / str(step), cordapps=["sample_cordapp"])
        alice, bob, carol = await three_nodes(network)
        network.add_fault(
            Fault(matches=lambda sender, message, bob=bob: sender == bob.name, delay=0.2)
        )
        try:
            order, _ = await run_through_crash(
                network, alice, RaceFlow(peers=(bob.name, carol.name)), alice, step, "after"
            )
            assert order == ["Carol", "Bob"], f"crash after step {step}"
            assert effect_count(alice.node.db, "race") == 1
        finally:
            await network.stop()
