"""The AMQP transport against a real private RabbitMQ with mutual TLS (see conftest.py)."""

from __future__ import annotations

import asyncio
import re
import time

import aio_pika
import aiormq.exceptions
import pytest

from deploy.rabbitmq import node_permissions
from dlt.identity import DevCertificateAuthority, X500Name
from dlt.messaging import OutboundMessage, TransportError
from dlt.messaging.tls import TlsMaterial

pytestmark = pytest.mark.broker


def _connection_refused(exc: BaseException) -> bool:
    """A failure to connect that is the broker's refusal, not a timeout."""
    return isinstance(exc, OSError | aiormq.exceptions.AMQPError) and not isinstance(
        exc, TimeoutError
    )


# -- provisioning ----------------------------------------------------------------------------


def test_provisioning_gives_each_node_only_its_own_inbox_and_outboxes(broker_network):
    broker = broker_network.broker
    permissions = broker.list_permissions()
    assert set(broker.list_users()) == {n.user_id for n in broker_network.nodes}  # no guest
    for node in broker_network.nodes:
        others = [n for n in broker_network.nodes if n is not node]
        own_hash = node.queue.removeprefix("p2p.inbound.")
        assert permissions[node.user_id] == node_permissions(node.queue)
        readable = re.compile(permissions[node.user_id].read)
        assert readable.search(node.queue)
        assert readable.search(f"p2p.outbound.{own_hash}.{others[0].queue.split('.')[-1]}")
        for other in others:
            other_hash = other.queue.removeprefix("p2p.inbound.")
            assert not readable.search(other.queue)
            assert not readable.search(f"p2p.outbound.{other_hash}.{own_hash}")
        assert permissions[node.user_id].write == r"^amq\.default$"
    config = broker.config_file.read_text()
    assert "listeners.tcp = none" in config
    assert "auth_mechanisms.1 = EXTERNAL" in config
    assert broker.enabled_plugins_file.read_text().strip() == "[rabbitmq_auth_mechanism_ssl]."


# -- delivery --------------------------------------------------------------------------------


async def test_message_arrives_with_the_validated_sender(net, make_inbox):
    inbox = make_inbox()
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())

    await alice.send(OutboundMessage(net.bob.name, "m-1", b"hello bob"))

    [message] = await inbox.take(1)
    assert message.sender == net.alice.name
    assert message.message_id == "m-1"
    assert message.payload == b"hello bob"
    await message.ack()
    assert await inbox.nothing_more()


async def test_unacknowledged_messages_are_redelivered_after_the_consumer_restarts(net, make_inbox):
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    for i in range(3):
        await alice.send(OutboundMessage(net.bob.name, f"r-{i}", f"payload {i}".encode()))
    first = make_inbox()
    bob = net.transport(net.bob)
    await bob.start(first)
    assert [m.message_id for m in await first.take(3)] == ["r-0", "r-1", "r-2"]

    await bob.stop()  # before any ack: the broker keeps all three
    again = make_inbox()
    await bob.start(again)

    redelivered = await again.take(3)
    assert [m.message_id for m in redelivered] == ["r-0", "r-1", "r-2"]
    assert [m.payload for m in redelivered] == [b"payload 0", b"payload 1", b"payload 2"]
    assert all(m.sender == net.alice.name for m in redelivered)


async def test_only_acknowledged_messages_are_gone_after_a_restart(net, make_inbox):
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    for i in range(3):
        await alice.send(OutboundMessage(net.bob.name, f"c-{i}", b"x"))
    first = make_inbox()
    bob = net.transport(net.bob)
    await bob.start(first)
    received = await first.take(3)
    await received[1].ack()  # only c-1's effects were committed

    await bob.stop()
    again = make_inbox(auto_ack=True)
    await bob.start(again)

    assert sorted(m.message_id for m in await again.take(2)) == ["c-0", "c-2"]
    assert await again.nothing_more()


async def test_a_resent_message_arrives_twice_with_the_same_id(net, make_inbox):
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    message = OutboundMessage(net.bob.name, "flow-1.session-2.7", b"replayed send")

    await alice.send(message)
    await alice.send(message)  # e.g. a flow replayed after a crash sends it again

    first, second = await inbox.take(2)
    assert first.message_id == second.message_id == "flow-1.session-2.7"
    assert first.payload == second.payload == b"replayed send"
    assert first.sender == second.sender == net.alice.name


async def test_messages_without_a_known_validated_sender_are_rejected_not_requeued(net, make_inbox):
    inbox = make_inbox(auto_ack=True)
    # Bob's directory knows no peer at all, so Alice's (validated) user id maps to no one.
    await net.transport(net.bob, sender_from_user_id=lambda user_id: None).start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    await alice.send(OutboundMessage(net.bob.name, "unknown-peer", b"x"))
    # A message with no user id at all is not validated by the broker either.
    connection = await net.connect(net.alice.tls)
    try:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(b"x", message_id="no-user-id", delivery_mode=2),
            routing_key=net.bob.queue,
        )
    finally:
        await connection.close()

    deadline = time.monotonic() + 10
    while (await asyncio.to_thread(net.broker.queue_depths))[net.bob.queue] != 0:
        assert time.monotonic() < deadline, "Bob never settled the messages"
        await asyncio.sleep(0.1)
    assert await inbox.nothing_more(0.2)


async def test_sending_to_a_peer_without_an_inbox_fails(net, make_inbox):
    alice = net.transport(net.alice, resolve_queue=lambda name: "p2p.inbound.nobody")
    await alice.start(make_inbox())
    with pytest.raises(TransportError, match="no queue"):
        await alice.send(OutboundMessage(net.bob.name, "lost", b"x"))


async def test_sending_to_an_unknown_peer_fails(net, make_inbox):
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    with pytest.raises(TransportError, match="no inbox queue is known"):
        await alice.send(OutboundMessage(X500Name("Nobody", "Hull", "GB"), "lost", b"x"))


# -- what the broker refuses -----------------------------------------------------------------


async def test_broker_refuses_a_certificate_from_another_ca(net, make_inbox):
    # Alice's very name (so her broker user), but issued by a CA the broker does not trust.
    impostor = DevCertificateAuthority.create().enrol_node(net.alice.name)
    forged = TlsMaterial.for_node(impostor)
    tls = TlsMaterial(net.alice.tls.ca_pem, forged.cert_chain_pem, forged.key_pem)
    transport = net.transport(net.alice, tls=tls, connect_timeout=3.0)
    with pytest.raises(TransportError) as refused:
        await transport.start(make_inbox())
    assert "SSL" in str(refused.value) or "certificate" in str(refused.value).lower()


async def test_broker_refuses_a_name_that_is_not_a_provisioned_user(net, make_inbox):
    mallory = net.ca.enrol_node(X500Name("Mallory", "Leeds", "GB"))
    transport = net.transport(net.alice, tls=TlsMaterial.for_node(mallory), connect_timeout=3.0)
    with pytest.raises(TransportError, match=r"ACCESS_REFUSED|Authentication"):
        await transport.start(make_inbox())


async def test_broker_refuses_a_client_without_a_certificate(net):
    with pytest.raises(Exception) as refused:
        await net.connect(None)
    assert _connection_refused(refused.value), repr(refused.value)


async def test_broker_refuses_plain_amqp(net):
    with pytest.raises(Exception) as refused:
        await aio_pika.connect(
            f"amqp://127.0.0.1:{net.broker.amqps_port}/?auth=external", timeout=5
        )
    assert _connection_refused(refused.value), repr(refused.value)


async def test_a_node_cannot_read_or_change_another_nodes_inbox(net):
    connection = await net.connect(net.alice.tls)
    bob_queue = net.bob.queue

    async def on_message(message):
        pass

    async def consume(channel):
        await (await channel.get_queue(bob_queue, ensure=False)).consume(on_message)

    async def get(channel):
        await (await channel.get_queue(bob_queue, ensure=False)).get(fail=False)

    async def purge(channel):
        await (await channel.get_queue(bob_queue, ensure=False)).purge()

    async def delete(channel):
        await (await channel.get_queue(bob_queue, ensure=False)).delete(if_unused=False)

    async def declare(channel):
        await channel.declare_queue(bob_queue, durable=True)

    async def bind(channel):
        await (await channel.get_queue(bob_queue, ensure=False)).bind("amq.fanout")

    async def declare_another_queue(channel):
        await channel.declare_queue("p2p.inbound.squatter", durable=True)

    async def declare_an_exchange(channel):
        await channel.declare_exchange("p2p.fanout")

    operations = (consume, get, purge, delete, declare, bind)
    try:
        for operation in (*operations, declare_another_queue, declare_an_exchange):
            channel = await connection.channel()
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await operation(channel)
        # ...while its own inbox is open to it.
        channel = await connection.channel()
        own = await channel.declare_queue(net.alice.queue, durable=True)
        await own.consume(on_message)
        await own.purge()
    finally:
        await connection.close()


async def test_a_node_can_publish_only_through_the_default_exchange(net):
    connection = await net.connect(net.alice.tls)
    try:
        channel = await connection.channel()
        topic = await channel.get_exchange("amq.topic", ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await topic.publish(
                aio_pika.Message(b"x", user_id=net.alice.user_id), routing_key=net.bob.queue
            )
    finally:
        await connection.close()


async def test_broker_rejects_a_forged_user_id(net, make_inbox):
    connection = await net.connect(net.alice.tls)
    try:
        channel = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed, match="user_id"):
            await channel.default_exchange.publish(
                aio_pika.Message(b"forged", message_id="forged", user_id=net.bob.user_id),
                routing_key=net.bob.queue,
            )
    finally:
        await connection.close()
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    assert await inbox.nothing_more()


# -- load and failure ------------------------------------------------------------------------


async def test_many_messages_go_through_with_windowed_confirms(net, make_inbox, report_metric):
    count, payload = 2_000, bytes(range(256)) * 4
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())

    started = time.perf_counter()
    await asyncio.gather(
        *(alice.send(OutboundMessage(net.bob.name, f"bulk-{i}", payload)) for i in range(count))
    )
    confirmed = time.perf_counter() - started
    received = await inbox.take(count, timeout=60)
    delivered = time.perf_counter() - started

    assert {m.message_id for m in received} == {f"bulk-{i}" for i in range(count)}
    assert all(m.payload == payload and m.sender == net.alice.name for m in received)
    report_metric(
        "amqp_publish_confirmed_rate",
        f"{count / confirmed:,.0f} msg/s ({count} x 1 KB persistent, confirms, window 256)",
    )
    report_metric(
        "amqp_end_to_end_rate",
        f"{count / delivered:,.0f} msg/s (publish + consume + ack in one process)",
    )


async def test_transports_reconnect_after_a_broker_restart_without_losing_messages(net, make_inbox):
    inbox = make_inbox(auto_ack=True)
    bob = net.transport(net.bob)
    await bob.start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    before = [OutboundMessage(net.bob.name, f"before-{i}", b"b") for i in range(200)]
    await asyncio.gather(*(alice.send(m) for m in before))  # all confirmed

    await asyncio.to_thread(net.broker.stop)
    during = asyncio.create_task(alice.send(OutboundMessage(net.bob.name, "during", b"d")))
    await asyncio.sleep(0.3)
    assert not during.done()
    await asyncio.to_thread(net.broker.start)
    await asyncio.wait_for(during, 20)  # the send waited for the reconnection
    after = [OutboundMessage(net.bob.name, f"after-{i}", b"a") for i in range(200)]
    await asyncio.gather(*(alice.send(m) for m in after))

    expected = {m.message_id for m in [*before, *after]} | {"during"}
    seen: set[str] = set()
    async with asyncio.timeout(30):
        while not expected <= seen:
            seen.add((await inbox.messages.get()).message_id)
    assert alice.reconnections >= 1
    assert bob.reconnections >= 1


def _first_channel_fails_after_one_publish(monkeypatch, failure) -> None:
    """Once the first channel that publishes has carried one message, every later publish on it
    ends in `failure(options)` (nothing enqueued); other channels publish for real."""
    first: list[object] = []
    publish = aio_pika.Exchange.publish

    async def failing(exchange, message, routing_key, **options):
        if not first:
            first.append(exchange.channel)
        elif exchange.channel is first[0]:
            await failure(options)
        return await publish(exchange, message, routing_key, **options)

    monkeypatch.setattr(aio_pika.Exchange, "publish", failing)


async def test_a_channel_that_stops_confirming_is_replaced_and_the_send_goes_through(
    net, make_inbox, monkeypatch
):
    # After a quorum queue's leader change, RabbitMQ can leave every later publish on a channel
    # unconfirmed (seen with a consortium member killed). Emulated here: once the first
    # channel has carried one message, nothing more published on it is enqueued or confirmed.
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice, confirm_timeout=0.5, send_timeout=20.0)
    await alice.start(make_inbox())

    async def unconfirmed(options):
        await asyncio.sleep(options["timeout"])
        raise TimeoutError

    _first_channel_fails_after_one_publish(monkeypatch, unconfirmed)
    await alice.send(OutboundMessage(net.bob.name, "first", b"1"))

    began = time.monotonic()
    await asyncio.gather(
        *(alice.send(OutboundMessage(net.bob.name, f"later-{i}", b"2")) for i in range(5))
    )

    assert time.monotonic() - began < 5  # one confirm timeout, not the 20 s send deadline
    received = {m.message_id for m in await inbox.take(6)}
    assert received == {"first", *(f"later-{i}" for i in range(5))}
    assert alice.reconnections == 0  # the connection, and its consumer, stayed up


async def test_a_queue_that_never_confirms_still_fails_the_send_at_its_deadline(
    net, make_inbox, monkeypatch
):
    alice = net.transport(net.alice, confirm_timeout=0.2, send_timeout=1.0)
    await alice.start(make_inbox())

    async def never_confirmed(exchange, message, routing_key, **options):
        await asyncio.sleep(options["timeout"])
        raise TimeoutError

    monkeypatch.setattr(aio_pika.Exchange, "publish", never_confirmed)
    with pytest.raises(TransportError, match=r"did not confirm message m-1 .* within 1\.0 s"):
        await alice.send(OutboundMessage(net.bob.name, "m-1", b"x"))


async def test_a_channel_that_nacks_every_publish_is_replaced_and_the_send_goes_through(
    net, make_inbox, monkeypatch
):
    # The other state seen after a quorum queue's leader change: the broker nacks every
    # publish on the channel. Retrying there only collects more nacks until the deadline.
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice, send_timeout=20.0)
    await alice.start(make_inbox())

    async def nacked(options):
        raise aiormq.exceptions.DeliveryError(None, None)

    _first_channel_fails_after_one_publish(monkeypatch, nacked)
    await alice.send(OutboundMessage(net.bob.name, "first", b"1"))

    began = time.monotonic()
    await alice.send(OutboundMessage(net.bob.name, "second", b"2"))

    assert time.monotonic() - began < 5
    assert {m.message_id for m in await inbox.take(2)} == {"first", "second"}
    assert alice.reconnections == 0
