"""Receiving from whichever of several sessions answers first, durably."""

from __future__ import annotations

import asyncio

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


async def test_a_payload_for_several_sessions_is_published_to_all_at_once(network):
    alice, bob, carol = await three_nodes(network)
    transport, in_flight, most = alice.node.engine.transport, [0], [0]
    send = transport.send

    async def slow_send(message):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        try:
            await asyncio.sleep(0.05)  # a broker slow to confirm
            await send(message)
        finally:
            in_flight[0] -= 1

    transport.send = slow_send

    order = await alice.run(RaceFlow(peers=(bob.name, carol.name), at_once=True))

    assert sorted(order) == ["Bob", "Carol"]
    assert most[0] == 2  # both requests awaited their confirms together


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
