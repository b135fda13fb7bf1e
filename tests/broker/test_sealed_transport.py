"""Sealed transports on a real broker: the queue holds ciphertext, and a body that does not
open as from its sender is dropped, logged and counted."""

from __future__ import annotations

import asyncio
import time

import aio_pika

from dlt.messaging import OutboundMessage
from dlt.messaging.sealing import Sealer, is_sealed


def _sealer(net, node) -> Sealer:
    keys = {n.name: n.certificates.party.owning_key for n in net.nodes}
    return Sealer(node.name, node.certificates.legal_identity_key, keys.get)


async def test_a_sealed_message_arrives_as_plain_text_and_crosses_the_broker_sealed(
    net, make_inbox
):
    # What the broker holds: published sealed, read raw from Bob's inbox before Bob consumes.
    alice = net.transport(net.alice, sealer=_sealer(net, net.alice))
    await alice.start(make_inbox())
    await alice.send(OutboundMessage(net.bob.name, "m-1", b"bid: 2500 Wh at 20"))
    connection = await net.connect(net.bob.tls)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(net.bob.queue, durable=True)
        raw = await queue.get(timeout=5)
        assert is_sealed(raw.body) and b"bid" not in raw.body
        await raw.reject(requeue=True)
    finally:
        await connection.close()

    inbox = make_inbox()
    await net.transport(net.bob, sealer=_sealer(net, net.bob)).start(inbox)
    [message] = await inbox.take(1)
    assert (message.sender, message.payload) == (net.alice.name, b"bid: 2500 Wh at 20")
    await message.ack()


async def test_a_body_that_does_not_open_is_dropped_and_counted(net, make_inbox):
    dropped: list[str] = []
    inbox = make_inbox(auto_ack=True)
    bob = net.transport(net.bob, sealer=_sealer(net, net.bob), on_drop=dropped.append)
    await bob.start(inbox)
    sealed = _sealer(net, net.alice).seal(net.bob.name, "m-2", b"original")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    connection = await net.connect(net.alice.tls)
    try:
        channel = await connection.channel()
        for message_id, body in (("m-2", tampered), ("m-3", b"unsealed"), ("m-4", sealed)):
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body, message_id=message_id, user_id=net.alice.user_id, delivery_mode=2
                ),
                routing_key=net.bob.queue,
            )
    finally:
        await connection.close()

    deadline = time.monotonic() + 10
    while len(dropped) < 3:
        assert time.monotonic() < deadline, f"only {dropped} were dropped"
        await asyncio.sleep(0.05)
    assert dropped == ["unsealable"] * 3  # m-4 is sealed for m-2's id: moved, so refused too
    assert await inbox.nothing_more(0.3)
    depths = await asyncio.to_thread(net.broker.queue_depths)
    assert depths[net.bob.queue] == 0  # rejected, not requeued
