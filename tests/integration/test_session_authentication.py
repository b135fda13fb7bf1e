"""Session messages count only when the session's counterparty sent them.

Session ids (`<flow id>.<n>`) are not secret: anyone who saw one can guess the next. The sender
of a message is what the transport vouches for (the broker-validated user id), so that is
what the engine checks on every path, for sessions open now and for those not open yet.
"""

from __future__ import annotations

import asyncio

import pytest

from dlt.encoding import encode
from dlt.flows.errors import FlowException
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.messaging.in_memory import Fault
from dlt.messaging.transport import OutboundMessage
from fixtures.flows import PingFlow, PingTwiceFlow

ALICE = "O=Alice, L=Leeds, C=GB"
BOB = "O=Bob, L=York, C=GB"
MALLORY = "O=Mallory, L=Hull, C=GB"


async def three_nodes(network):
    nodes = [network.create_node(name) for name in (ALICE, BOB, MALLORY)]
    await network.start()
    return nodes


async def inject(mallory, victim, session_id: str, value: int, seq: int = 0) -> None:
    """What Mallory can do with her own, legitimate connection: write into any session id."""
    forged = SessionMessage(
        kind=SessionMessageKind.DATA,
        session_id=session_id,
        from_initiator=False,
        seq=seq,
        payload=encode(value),
    )
    await mallory.node.engine.transport.send(
        OutboundMessage(victim.name, forged.message_id, encode(forged))
    )


def dropped(node) -> float:
    registry = node.node.metrics.registry
    value = registry.get_sample_value(
        "dlt_p2p_messages_dropped_total", {"reason": "foreign_sender"}
    )
    return value or 0.0


async def test_a_reply_written_into_an_open_session_by_a_third_party_is_dropped(network):
    alice, bob, mallory = await three_nodes(network)
    network.add_fault(Fault(matches=lambda s, m: s == bob.name, delay=0.3))
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=1))
    await asyncio.sleep(0.05)

    await inject(mallory, alice, f"{handle.flow_id}.1", 999)

    assert await asyncio.wait_for(handle.result(), 10) == [0]
    assert dropped(alice) == 1


async def test_a_message_for_a_session_not_open_yet_from_a_third_party_is_dropped(network):
    alice, bob, mallory = await three_nodes(network)
    handle = await alice.start_flow(PingTwiceFlow(peer=bob.name, pause=0.5))
    while "Pausing" not in handle.progress:
        await asyncio.sleep(0.01)

    await inject(mallory, alice, f"{handle.flow_id}.2", 999)
    await asyncio.sleep(0.05)

    assert await asyncio.wait_for(handle.result(), 10) == [[0], [0]]
    assert dropped(alice) == 1


async def test_the_counterparty_still_reaches_its_session(network):
    alice, bob, _mallory = await three_nodes(network)

    assert await alice.run(PingFlow(peer=bob.name, count=3)) == [0, 2, 4]
    assert dropped(alice) == 0


async def test_a_node_forgotten_for_leaving_the_map_cannot_open_a_session(network):
    """A revoked node is left off the map, so its peers forget it (NetworkMapCache.retain):
    what it sends afterwards, on its still valid connection, starts nothing."""
    alice, bob, mallory = await three_nodes(network)
    forgotten = alice.node.network_map.retain([alice.name, bob.name])
    assert forgotten == [mallory.name]
    assert alice.node.services.identity.party_from_name(mallory.name) is None

    with pytest.raises(FlowException, match="does not know the sender"):
        await mallory.run(PingFlow(peer=alice.name, count=1), timeout=10)
    assert await alice.run(PingFlow(peer=bob.name, count=1)) == [0]


async def test_a_bare_session_init_starts_a_responder_whose_row_is_written_at_once(network):
    # Only a hand-built message opens a session without its first payload. Its delivery is
    # acknowledged at once, so the responder's row cannot wait for a first commit: were it
    # lost in a crash, the data Mallory sends next would reach no session.
    from dlt.flows.engine import responder_flow_id

    _alice, bob, mallory = await three_nodes(network)
    bare = SessionMessage(
        kind=SessionMessageKind.INIT,
        session_id="mallorys-flow.1",
        from_initiator=True,
        seq=0,
        protocol="test.Ping",
        protocol_version=1,
    )
    await mallory.node.engine.transport.send(
        OutboundMessage(bob.name, bare.message_id, encode(bare))
    )
    flow_id = responder_flow_id(mallory.name, "mallorys-flow.1")
    async with asyncio.timeout(5):
        while not bob.node.engine.in_flight:  # the responder runs, waiting for its data
            await asyncio.sleep(0.01)

    row = await bob.node.engine.flow_status(flow_id)
    assert row.peer == str(mallory.name) and not row.status.finished
