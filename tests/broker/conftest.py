"""One private RabbitMQ broker per test session, with real TLS from a development CA.

The broker's TLS certificate is issued (SAN 127.0.0.1) under a node CA of the same development
network as the nodes. Each node's TLS certificate names exactly the node, as its name-constrained
node CA allows; the subject rendered as RabbitMQ renders it, `broker_user_name(node name)`, is the
broker user it logs in as (EXTERNAL) and the `user_id` on everything it sends; its inbox is
`inbox_queue_name(legal identity key)`. Users and inboxes are provisioned once per session; each
test starts with both inboxes purged, and the transports a test makes are stopped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest

from deploy.rabbitmq import PrivateBroker, find_rabbitmq_scripts, free_port
from dlt.identity import DevCertificateAuthority, NodeCertificates, X500Name, cert_to_pem
from dlt.messaging import InboundMessage
from dlt.messaging.amqp import AmqpTransport, inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.messaging.tls import TlsMaterial

ALICE = X500Name("Alice Solar", "Leeds", "GB")
BOB = X500Name("Bob Wind", "York", "GB")
BROKER = X500Name("Local Broker", "London", "GB")

_METRICS: list[tuple[str, str]] = []


@dataclass(frozen=True)
class BrokerNode:
    name: X500Name
    certificates: NodeCertificates
    tls: TlsMaterial
    user_id: str
    queue: str


def _node(ca: DevCertificateAuthority, name: X500Name) -> BrokerNode:
    certificates = ca.enrol_node(name)
    return BrokerNode(
        name=name,
        certificates=certificates,
        tls=TlsMaterial.for_node(certificates),
        user_id=broker_user_name(name),
        queue=inbox_queue_name(certificates.party.owning_key),
    )


@dataclass
class BrokerNetwork:
    broker: PrivateBroker
    ca: DevCertificateAuthority
    alice: BrokerNode
    bob: BrokerNode
    transports: list[AmqpTransport] = field(default_factory=list)

    @property
    def nodes(self) -> tuple[BrokerNode, ...]:
        return (self.alice, self.bob)

    def resolve_queue(self, name: X500Name) -> str:
        for node in self.nodes:
            if node.name == name:
                return node.queue
        raise LookupError(f"{name} is not on this network")

    def sender_from_user_id(self, user_id: str) -> X500Name | None:
        return next((n.name for n in self.nodes if n.user_id == user_id), None)

    def transport(self, node: BrokerNode, **options: Any) -> AmqpTransport:
        """A transport for `node`, stopped when the test ends."""
        options.setdefault("connect_timeout", 10.0)
        options.setdefault("send_timeout", 20.0)
        options.setdefault("reconnect_max_delay", 1.0)
        transport = AmqpTransport(
            our_name=node.name,
            broker_url=self.broker.url(),
            inbox_queue=node.queue,
            tls=options.pop("tls", node.tls),
            resolve_queue=options.pop("resolve_queue", self.resolve_queue),
            sender_from_user_id=options.pop("sender_from_user_id", self.sender_from_user_id),
            **options,
        )
        self.transports.append(transport)
        return transport

    def ssl_context(self, tls: TlsMaterial | None) -> ssl.SSLContext:
        """A client context trusting the network root, offering `tls` (None: no certificate)."""
        if tls is not None:
            return tls.ssl_context()
        return ssl.create_default_context(cadata=cert_to_pem(self.ca.root_cert).decode())

    async def connect(self, tls: TlsMaterial | None) -> aio_pika.abc.AbstractConnection:
        """A bare aio-pika connection, for checking what the broker allows."""
        return await aio_pika.connect(
            self.broker.url(), ssl_context=self.ssl_context(tls), timeout=10
        )

    async def purge_inboxes(self) -> None:
        for node in self.nodes:
            connection = await self.connect(node.tls)
            try:
                channel = await connection.channel()
                queue = await channel.declare_queue(node.queue, durable=True)
                await queue.purge()
            finally:
                await connection.close()


class Inbox:
    """A handler that collects inbound messages, acknowledging them only when told."""

    def __init__(self, *, auto_ack: bool = False) -> None:
        self.auto_ack = auto_ack
        self.messages: asyncio.Queue[InboundMessage] = asyncio.Queue()

    async def __call__(self, message: InboundMessage) -> None:
        if self.auto_ack:
            await message.ack()
        await self.messages.put(message)

    async def take(self, count: int, timeout: float = 10.0) -> list[InboundMessage]:
        taken: list[InboundMessage] = []
        async with asyncio.timeout(timeout):
            while len(taken) < count:
                taken.append(await self.messages.get())
        return taken

    async def nothing_more(self, wait: float = 0.5) -> bool:
        """True when no message arrives within `wait` seconds."""
        try:
            async with asyncio.timeout(wait):
                await self.messages.get()
        except TimeoutError:
            return True
        return False


@pytest.fixture(scope="session")
def broker_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerNetwork]:
    if find_rabbitmq_scripts() is None:
        pytest.skip(
            "rabbitmq-server is not installed; run `sudo bash deploy/ensure-rabbitmq.sh` "
            "(apt-get install rabbitmq-server)"
        )
    ca = DevCertificateAuthority.create()
    server = ca.enrol_node(BROKER)
    broker = PrivateBroker(
        home=tmp_path_factory.mktemp("rabbitmq"),
        amqps_port=free_port(15000, 20000),  # outside the ephemeral range: stable on restart
        dist_port=None,
        node_name=None,
        ca_pem=cert_to_pem(ca.root_cert),
        server_cert_pem=b"".join(cert_to_pem(c) for c in server.tls_chain[:-1]),
        server_key_pem=server.tls_key.to_pem(),
    )
    broker.start()
    try:
        alice, bob = _node(ca, ALICE), _node(ca, BOB)
        broker.provision({alice.user_id: alice.queue, bob.user_id: bob.queue})
        yield BrokerNetwork(broker=broker, ca=ca, alice=alice, bob=bob)
    finally:
        broker.stop()


@pytest.fixture
async def net(broker_network: BrokerNetwork) -> AsyncIterator[BrokerNetwork]:
    await broker_network.purge_inboxes()
    try:
        yield broker_network
    finally:
        transports, broker_network.transports = broker_network.transports, []
        for transport in transports:
            with contextlib.suppress(Exception):
                await transport.stop()


@pytest.fixture
def report_metric(record_property: Any) -> Any:
    """Record a measurement in the JUnit XML and in the terminal summary (with or without -s)."""

    def report(name: str, value: str) -> None:
        record_property(name, value)
        _METRICS.append((name, value))
        print(f"{name}: {value}")

    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _METRICS:
        terminalreporter.section("broker measurements")
        for name, value in _METRICS:
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture
def make_inbox() -> Any:
    """Inbox(auto_ack=...) factory, so test modules need not import this conftest."""
    return Inbox
