"""Messages that arrive before their session opens wait for it, but not for ever: the END a
client sends to a notary that never heard its request has no session to wait for."""

from __future__ import annotations

import asyncio

from dlt.encoding import encode
from dlt.flows import engine
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.messaging.transport import OutboundMessage

ALICE = "O=Alice, L=Leeds, C=GB"
BOB = "O=Bob, L=York, C=GB"


def orphaned(node) -> float:
    registry = node.node.metrics.registry
    value = registry.get_sample_value("dlt_p2p_messages_dropped_total", {"reason": "orphaned"})
    return value or 0.0


async def send_end_without_init(sender, recipient, session_id: str) -> None:
    end = SessionMessage(
        kind=SessionMessageKind.END, session_id=session_id, from_initiator=True, seq=1
    )
    await sender.node.engine.transport.send(
        OutboundMessage(recipient.name, end.message_id, encode(end))
    )


async def wait_for(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_an_end_whose_session_never_opens_is_acknowledged_once_it_expires(
    network, monkeypatch
):
    monkeypatch.setattr(engine, "EARLY_MESSAGE_TTL", 0.3)
    alice, bob = network.create_node(ALICE), network.create_node(BOB)
    await network.start()

    await send_end_without_init(alice, bob, "0123456789abcdef0123456789abcdef.1")
    await wait_for(lambda: bob.node.engine._early_count == 1)
    assert network.messaging.pending(bob.name) == 1

    await wait_for(lambda: network.messaging.pending(bob.name) == 0)
    assert bob.node.engine._early_count == 0
    assert orphaned(bob) == 1


async def test_an_early_message_is_kept_while_its_session_may_still_open(network):
    alice, bob = network.create_node(ALICE), network.create_node(BOB)
    await network.start()

    await send_end_without_init(alice, bob, "fedcba9876543210fedcba9876543210.1")
    await wait_for(lambda: bob.node.engine._early_count == 1)
    await asyncio.sleep(0.5)

    assert network.messaging.pending(bob.name) == 1
    assert orphaned(bob) == 0
