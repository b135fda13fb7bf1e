"""RoutingTransport: the home broker for peers on it; for peers elsewhere an outbox on the home
broker and a forwarder that publishes to the peer's broker and acknowledges only after it
confirmed.

Unit tests with in-memory stand-ins for the AMQP transports (the real ones run in
test_across_hosts.py, on four brokers, with a broker cut off and healed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dlt.identity import X500Name
from dlt.messaging.routing import RoutingTransport, outbox_queue_name, same_broker
from dlt.messaging.transport import InboundMessage, OutboundMessage, TransportError

HOME = "amqps://10.0.0.1:5671/%2F"
ELSEWHERE = "amqps://10.0.0.2:5671/%2F"
ME = X500Name.parse("O=Me, L=Leeds, C=GB")
ALICE = X500Name.parse("O=Alice, L=Leeds, C=GB")
BOB = X500Name.parse("O=Bob, L=York, C=GB")
CAROL = X500Name.parse("O=Carol, L=Hull, C=GB")
DAVE = X500Name.parse("O=Dave, L=Bath, C=GB")
BROKERS = {ME: HOME, ALICE: HOME, BOB: ELSEWHERE, CAROL: ELSEWHERE}
INBOXES = {name: f"p2p.inbound.{name.organisation.lower()}" for name in BROKERS}


class Brokers:
    """Queues per broker URL, held in memory; a broker in `down` refuses connections."""

    def __init__(self) -> None:
        self.queues: dict[tuple[str, str], list[OutboundMessage]] = {}
        self.consumers: dict[tuple[str, str], Callable] = {}
        self.down: set[str] = set()
        self.connections: list[Fake] = []

    def connect(
        self, url: str, queue: str, resolve: Callable, *, consume: bool = True, seal: bool = False
    ) -> Fake:
        fake = Fake(self, url, queue, resolve, consume)
        self.connections.append(fake)
        return fake


class Fake:
    def __init__(self, brokers: Brokers, url: str, queue: str, resolve: Callable, consume: bool):
        self.brokers, self.url, self.inbox_queue = brokers, url, queue
        self.resolve, self.consume = resolve, consume
        self.started = self.stopped = 0

    async def start(self, handler: Callable) -> None:
        if self.url in self.brokers.down:
            raise TransportError(f"cannot connect to {self.url}")
        self.started += 1
        if self.consume:
            self.brokers.queues.setdefault((self.url, self.inbox_queue), [])
            self.brokers.consumers[(self.url, self.inbox_queue)] = handler
            for message in list(self.brokers.queues[(self.url, self.inbox_queue)]):
                await self._deliver(message)

    async def stop(self) -> None:
        self.stopped += 1

    async def send(self, message: OutboundMessage) -> None:
        if self.url in self.brokers.down:
            raise TransportError(f"{self.url} is unreachable")
        key = (self.url, self.resolve(message.recipient))
        self.brokers.queues.setdefault(key, []).append(message)
        target = self.brokers.consumers.get(key)
        if target is not None:
            asyncio.get_running_loop().create_task(self._deliver(message, key))

    async def _deliver(self, message: OutboundMessage, key: tuple[str, str] | None = None) -> None:
        key = key or (self.url, self.inbox_queue)
        queue = self.brokers.queues[key]

        async def ack() -> None:
            if message in queue:
                queue.remove(message)

        await self.brokers.consumers[key](
            InboundMessage(ME, message.message_id, message.payload, ack)
        )


def _transport(brokers: Brokers) -> RoutingTransport:
    home = brokers.connect(HOME, INBOXES[ME], INBOXES.__getitem__)

    def resolve_broker(name: X500Name) -> str:
        try:
            return BROKERS[name]
        except KeyError:
            raise LookupError(f"{name} is not on the network map") from None

    return RoutingTransport(
        home,  # type: ignore[arg-type]
        HOME,
        resolve_broker,
        INBOXES.__getitem__,
        lambda: [ALICE, BOB],
        brokers.connect,  # type: ignore[arg-type]
    )


async def _nothing(message: InboundMessage) -> None:
    return None


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _message(recipient: X500Name, number: int = 1) -> OutboundMessage:
    return OutboundMessage(recipient, f"m-{number}", b"payload")


def test_two_urls_name_one_broker_regardless_of_the_query_and_host_case():
    assert same_broker(
        "amqps://Broker.example:5671/%2F?auth=external",
        ELSEWHERE.replace("10.0.0.2", "broker.example"),
    )
    assert not same_broker("amqps://broker.example:5671/%2F", "amqps://broker.example:5672/%2F")
    assert not same_broker("amqps://broker.example:5671/a", "amqps://broker.example:5671/b")


def test_an_outbox_is_named_for_both_keys():
    assert outbox_queue_name("p2p.inbound.aa11", "p2p.inbound.bb22") == "p2p.outbound.aa11.bb22"
    with pytest.raises(ValueError, match="not an inbox"):
        outbox_queue_name("p2p.inbound.aa11", "someone-else")


async def test_a_peer_on_the_home_broker_gets_the_message_in_its_inbox_directly():
    brokers = Brokers()
    transport = _transport(brokers)
    await transport.start(_nothing)

    await transport.send(_message(ALICE))

    assert [m.message_id for m in brokers.queues[(HOME, INBOXES[ALICE])]] == ["m-1"]
    assert transport.remote_brokers == []


async def test_a_peer_elsewhere_gets_the_message_on_its_broker_through_the_outbox():
    brokers = Brokers()
    transport = _transport(brokers)
    await transport.start(_nothing)

    await transport.send(_message(BOB, 1))
    await transport.send(_message(CAROL, 2))
    await _settle()

    assert [m.message_id for m in brokers.queues[(ELSEWHERE, INBOXES[BOB])]] == ["m-1"]
    assert [m.message_id for m in brokers.queues[(ELSEWHERE, INBOXES[CAROL])]] == ["m-2"]
    assert brokers.queues[(HOME, outbox_queue_name(INBOXES[ME], INBOXES[BOB]))] == []
    assert transport.remote_brokers == [ELSEWHERE]
    assert transport.forwarded == 2


async def test_a_send_to_an_unreachable_broker_returns_and_is_delivered_once_it_is_back():
    brokers = Brokers()
    brokers.down.add(ELSEWHERE)
    transport = _transport(brokers)
    await transport.start(_nothing)

    await transport.send(_message(BOB))
    await asyncio.sleep(0.3)
    waiting = list(brokers.queues[(HOME, outbox_queue_name(INBOXES[ME], INBOXES[BOB]))])
    brokers.down.clear()
    for _ in range(40):
        if brokers.queues.get((ELSEWHERE, INBOXES[BOB])):
            break
        await asyncio.sleep(0.1)

    assert [m.message_id for m in waiting] == ["m-1"]
    assert [m.message_id for m in brokers.queues[(ELSEWHERE, INBOXES[BOB])]] == ["m-1"]
    assert brokers.queues[(HOME, outbox_queue_name(INBOXES[ME], INBOXES[BOB]))] == []
    await transport.stop()


async def test_a_peer_missing_from_the_network_map_is_a_transport_error():
    transport = _transport(Brokers())
    await transport.start(_nothing)

    with pytest.raises(TransportError, match="no broker is known"):
        await transport.send(_message(DAVE))


async def test_stopping_closes_every_connection_and_refuses_further_sends():
    brokers = Brokers()
    transport = _transport(brokers)
    await transport.start(_nothing)
    await transport.send(_message(BOB))
    await _settle()

    await transport.stop()

    assert all(fake.stopped == 1 for fake in brokers.connections if fake.started)
    with pytest.raises(TransportError):
        await transport.send(_message(ALICE))
