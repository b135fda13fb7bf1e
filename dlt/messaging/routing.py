"""A Transport for a network of brokers: each organisation runs its own, as in production.

A node consumes its inbox on its own (home) broker. To send, it looks up the broker the
recipient's NodeInfo advertises: a peer on the home broker is reached through the home
connection; a peer elsewhere through a publish-only connection to that peer's broker, opened on
first use with the node's own TLS certificate (so the remote broker validates `user_id` against
a certificate the node CA's name constraints bind to the sender's legal name). One connection
per remote broker, kept open and re-established like the home one; a remote broker that cannot
be reached fails that send with TransportError, which the flow hospital retries, while sends to
every other broker go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from yarl import URL

from dlt.identity import X500Name
from dlt.messaging.amqp import AmqpTransport, TlsMaterial
from dlt.messaging.transport import (
    InboundMessage,
    MessageHandler,
    OutboundMessage,
    TransportError,
)

log = logging.getLogger(__name__)

BrokerResolver = Callable[[X500Name], str]
"""A peer's broker URL (`amqps://host:port/vhost`); raises LookupError for an unknown peer."""
RemoteFactory = Callable[[str], AmqpTransport]


def same_broker(first: str, second: str) -> bool:
    """Whether two broker URLs name one broker (scheme, host, port, vhost; the query aside)."""
    a, b = URL(first), URL(second)
    return (a.scheme, (a.host or "").lower(), a.port, a.path or "/") == (
        b.scheme,
        (b.host or "").lower(),
        b.port,
        b.path or "/",
    )


class RoutingTransport:
    """The home broker's transport for receiving, plus one publisher per remote broker."""

    def __init__(
        self,
        home: AmqpTransport,
        home_url: str,
        resolve_broker: BrokerResolver,
        remote_factory: RemoteFactory,
    ) -> None:
        self.home = home
        self.home_url = home_url
        self._resolve_broker = resolve_broker
        self._remote_factory = remote_factory
        self._remotes: dict[str, AmqpTransport] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._started = False

    @classmethod
    def for_node(
        cls,
        our_name: X500Name,
        broker_url: str,
        inbox_queue: str,
        tls: TlsMaterial,
        resolve_queue: Callable[[X500Name], str],
        resolve_broker: BrokerResolver,
        sender_from_user_id: Callable[[str], X500Name | None],
    ) -> RoutingTransport:
        """A node's transport: its inbox on `broker_url`, peers wherever they advertise."""
        home = AmqpTransport(
            our_name, broker_url, inbox_queue, tls, resolve_queue, sender_from_user_id
        )

        def remote(url: str) -> AmqpTransport:
            return AmqpTransport(
                our_name,
                url,
                inbox_queue,
                tls,
                resolve_queue,
                sender_from_user_id,
                consume_inbox=False,
                connect_timeout=10.0,
            )

        return cls(home, broker_url, resolve_broker, remote)

    @property
    def remote_brokers(self) -> list[str]:
        """The remote brokers this node has publishers for (for tests and operators)."""
        return sorted(self._remotes)

    async def start(self, handler: MessageHandler) -> None:
        await self.home.start(handler)
        self._started = True

    async def stop(self) -> None:
        self._started = False
        remotes, self._remotes = list(self._remotes.values()), {}
        for remote in remotes:
            with contextlib.suppress(Exception):
                await remote.stop()
        await self.home.stop()

    async def send(self, message: OutboundMessage) -> None:
        if not self._started:
            raise TransportError("the transport is not started")
        try:
            url = self._resolve_broker(message.recipient)
        except LookupError as exc:
            raise TransportError(f"no broker is known for {message.recipient}: {exc}") from exc
        if same_broker(url, self.home_url):
            await self.home.send(message)
            return
        remote = await self._remote(url)
        await remote.send(message)

    async def _remote(self, url: str) -> AmqpTransport:
        key = str(URL(url).with_query(None))
        found = self._remotes.get(key)
        if found is not None:
            return found
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:
            found = self._remotes.get(key)
            if found is not None:
                return found
            remote = self._remote_factory(url)
            await remote.start(_refuse_inbound)
            log.info("publishing to the broker at %s", key)
            self._remotes[key] = remote
            return remote


async def _refuse_inbound(message: InboundMessage) -> None:
    """A publish-only connection consumes nothing; this handler is never called."""
    raise TransportError(f"unexpected delivery {message.message_id} on a publish-only connection")
