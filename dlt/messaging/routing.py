"""A Transport for a network of brokers: each organisation runs its own, as in production.

A node consumes its inbox on its own (home) broker. A message for a peer on the home broker is
published straight to the peer's inbox. A message for a peer on another broker is stored and
forwarded, as Corda's bridges do: `send` publishes it persistently to the node's outbox queue for
that peer on the home broker (`p2p.outbound.<our key hash>.<peer key hash>`) and returns once the
home broker confirmed it; a forwarder per peer consumes that outbox and publishes each message to
the broker the peer's NodeInfo advertises, over a publish-only connection made with the node's
own TLS certificate (so the remote broker validates `user_id` against a certificate the node
CA's name constraints bind to the sender's legal name), and acknowledges it only once that broker
confirmed. So a flow never waits on another organisation's broker: while one is cut off, its
messages wait in the outbox, forwarding to everyone else goes on, and after the heal they are
delivered (at least once; receivers drop duplicates by message id). Outboxes survive a restart of
the node: at start it resumes a forwarder for every peer on another broker it knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from yarl import URL

from dlt.identity import X500Name
from dlt.messaging.amqp import INBOX_PREFIX, AmqpTransport
from dlt.messaging.sealing import Sealer
from dlt.messaging.tls import TlsMaterial
from dlt.messaging.transport import (
    InboundMessage,
    MessageHandler,
    OutboundMessage,
    TransportError,
)

log = logging.getLogger(__name__)

OUTBOX_PREFIX = "p2p.outbound."
FORWARD_RETRY_MAX = 2.0
FORWARDER_PREFETCH = 256

BrokerResolver = Callable[[X500Name], str]
"""A peer's broker URL (`amqps://host:port/vhost`); raises LookupError for an unknown peer."""
QueueResolver = Callable[[X500Name], str]
TransportFactory = Callable[..., AmqpTransport]


def same_broker(first: str, second: str) -> bool:
    """Whether two broker URLs name one broker (scheme, host, port, vhost; the query aside)."""
    a, b = URL(first), URL(second)
    return (a.scheme, (a.host or "").lower(), a.port, a.path or "/") == (
        b.scheme,
        (b.host or "").lower(),
        b.port,
        b.path or "/",
    )


def outbox_queue_name(our_inbox: str, peer_inbox: str) -> str:
    """`p2p.outbound.<our key hash>.<peer key hash>`: where messages for a peer on another broker
    wait on our home broker until they are forwarded."""
    return f"{OUTBOX_PREFIX}{_key_hash(our_inbox)}.{_key_hash(peer_inbox)}"


def _key_hash(inbox: str) -> str:
    if not inbox.startswith(INBOX_PREFIX):
        raise ValueError(f"{inbox!r} is not an inbox queue name ({INBOX_PREFIX}<key hash>)")
    return inbox[len(INBOX_PREFIX) :]


class RoutingTransport:
    """The home broker's transport for receiving and for local peers; outboxes and forwarders
    for peers on other brokers; one publisher per remote broker."""

    def __init__(
        self,
        home: AmqpTransport,
        home_url: str,
        resolve_broker: BrokerResolver,
        resolve_queue: QueueResolver,
        peers: Callable[[], Iterable[X500Name]],
        connect: TransportFactory,
    ) -> None:
        """`connect(url, queue, resolve_queue, *, consume)` makes an AmqpTransport for this
        node on broker `url`: consuming `queue` when `consume`, publishing to the queue
        `resolve_queue(recipient)` names."""
        self.home = home
        self.home_url = home_url
        self._resolve_broker = resolve_broker
        self._resolve_queue = resolve_queue
        self._peers = peers
        self._connect = connect
        self._outbox: AmqpTransport | None = None
        self._forwarders: dict[X500Name, AmqpTransport] = {}
        self._remotes: dict[str, AmqpTransport] = {}
        self._locks: dict[object, asyncio.Lock] = {}
        self._resume: asyncio.Task[None] | None = None
        self._started = False
        self.forwarded = 0
        """Messages forwarded to other brokers (for tests and metrics)."""

    @classmethod
    def for_node(
        cls,
        our_name: X500Name,
        broker_url: str,
        inbox_queue: str,
        tls: TlsMaterial,
        resolve_queue: QueueResolver,
        resolve_broker: BrokerResolver,
        sender_from_user_id: Callable[[str], X500Name | None],
        peers: Callable[[], Iterable[X500Name]],
        *,
        declare_inbox: bool = True,
        sealer: Sealer | None = None,
        on_drop: Callable[[str], None] | None = None,
    ) -> RoutingTransport:
        """A node's transport: its inbox on `broker_url`, peers wherever they advertise.

        With a `sealer`, payloads are sealed once where they enter the network (the home inbox
        of a local peer, or our outbox for a remote one) and opened only in our own inbox; the
        forwarders carry sealed bodies as they are, so no broker on the way can read them."""
        home = AmqpTransport(
            our_name,
            broker_url,
            inbox_queue,
            tls,
            resolve_queue,
            sender_from_user_id,
            declare_inbox=declare_inbox,
            sealer=sealer,
            on_drop=on_drop,
        )

        def connect(
            url: str, queue: str, resolve: QueueResolver, *, consume: bool, seal: bool = False
        ) -> AmqpTransport:
            return AmqpTransport(
                our_name,
                url,
                queue,
                tls,
                resolve,
                sender_from_user_id,
                consume_inbox=consume,
                prefetch=FORWARDER_PREFETCH,
                connect_timeout=10.0,
                sealer=sealer if seal else None,
            )

        return cls(home, broker_url, resolve_broker, resolve_queue, peers, connect)

    @property
    def remote_brokers(self) -> list[str]:
        """The remote brokers this node has publishers for (for tests and operators)."""
        return sorted(self._remotes)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, handler: MessageHandler) -> None:
        await self.home.start(handler)
        self._started = True
        self._resume = asyncio.get_running_loop().create_task(self._resume_forwarders())

    async def stop(self) -> None:
        self._started = False
        if self._resume is not None:
            self._resume.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resume
        transports = [*self._forwarders.values(), *self._remotes.values()]
        if self._outbox is not None:
            transports.append(self._outbox)
        self._forwarders, self._remotes, self._outbox = {}, {}, None
        for transport in transports:
            with contextlib.suppress(Exception):
                await transport.stop()
        await self.home.stop()

    async def _resume_forwarders(self) -> None:
        """Forward what outboxes kept across a restart: one forwarder per remote peer."""
        for peer in list(self._peers()):
            try:
                if not self._is_local(peer):
                    await self._forwarder(peer)
            except (LookupError, TransportError) as exc:
                log.info("not resuming the outbox for %s yet: %s", peer, exc)

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        if not self._started:
            raise TransportError("the transport is not started")
        try:
            local = self._is_local(message.recipient)
        except LookupError as exc:
            raise TransportError(f"no broker is known for {message.recipient}: {exc}") from exc
        if local:
            await self.home.send(message)
            return
        await self._forwarder(message.recipient)
        outbox = await self._outbox_publisher()
        await outbox.send(message)

    async def _outbox_publisher(self) -> AmqpTransport:
        """The home-broker connection that puts messages into outboxes (made on first use, so
        a node whose peers all share its broker opens no second connection)."""
        if self._outbox is not None:
            return self._outbox
        async with self._locks.setdefault("outbox", asyncio.Lock()):
            if self._outbox is None:
                outbox = self._connect(
                    self.home_url, self.home.inbox_queue, self._outbox_of, consume=False, seal=True
                )
                await outbox.start(_refuse_inbound)
                self._outbox = outbox
            return self._outbox

    def _is_local(self, peer: X500Name) -> bool:
        return same_broker(self._resolve_broker(peer), self.home_url)

    def _outbox_of(self, peer: X500Name) -> str:
        return outbox_queue_name(self.home.inbox_queue, self._resolve_queue(peer))

    async def _forwarder(self, peer: X500Name) -> AmqpTransport:
        """The consumer of `peer`'s outbox (declaring the outbox on first use)."""
        found = self._forwarders.get(peer)
        if found is not None:
            return found
        async with self._locks.setdefault(("forwarder", peer), asyncio.Lock()):
            found = self._forwarders.get(peer)
            if found is not None:
                return found
            try:
                queue = self._outbox_of(peer)
            except LookupError as exc:
                raise TransportError(f"no inbox is known for {peer}: {exc}") from exc
            forwarder = self._connect(self.home_url, queue, self._resolve_queue, consume=True)

            async def forward(message: InboundMessage) -> None:
                await self._forward(peer, message)

            await forwarder.start(forward)
            self._forwarders[peer] = forwarder
            return forwarder

    async def _forward(self, peer: X500Name, message: InboundMessage) -> None:
        """Publish one outbox message to the peer's broker, retrying until that broker
        confirms it; only then acknowledge it in the outbox."""
        delay = 0.1
        while True:
            try:
                remote = await self._remote(self._resolve_broker(peer))
                await remote.send(OutboundMessage(peer, message.message_id, message.payload))
                break
            except (LookupError, TransportError) as exc:
                log.info("forwarding %s to %s failed (%s); retrying", message.message_id, peer, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, FORWARD_RETRY_MAX)
        await message.ack()
        self.forwarded += 1

    async def _remote(self, url: str) -> AmqpTransport:
        key = str(URL(url).with_query(None))
        found = self._remotes.get(key)
        if found is not None:
            return found
        async with self._locks.setdefault(("remote", key), asyncio.Lock()):
            found = self._remotes.get(key)
            if found is not None:
                return found
            remote = self._connect(url, self.home.inbox_queue, self._resolve_queue, consume=False)
            await remote.start(_refuse_inbound)
            log.info("publishing to the broker at %s", key)
            self._remotes[key] = remote
            return remote


async def _refuse_inbound(message: InboundMessage) -> None:
    """A publish-only connection consumes nothing; this handler is never called."""
    raise TransportError(f"unexpected delivery {message.message_id} on a publish-only connection")
