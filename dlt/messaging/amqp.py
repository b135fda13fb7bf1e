"""The Transport over AMQP 0-9-1 (RabbitMQ) with mutual TLS, using aio-pika.

Each node consumes its own inbox queue on a broker and publishes to a peer's inbox through the
default exchange. The connection is authenticated by the node's TLS client certificate (SASL
EXTERNAL: the broker's user name is the certificate's whole subject, `broker_user_name`, which the
node CA's name constraints bind to the node's legal name), and every message carries `user_id` =
that user, which RabbitMQ checks against the authenticated user and refuses when they differ.
The receiver therefore learns the sender from `user_id`, never from the payload, and maps it to
a legal name with `sender_from_user_id`.

Delivery is at least once, as the Transport contract says:

- messages are persistent (delivery mode 2) to durable queues, and `send` returns only once the
  broker has confirmed the message (publisher confirms), with up to `max_in_flight` publishes
  outstanding at once across concurrent senders;
- inbound messages are acknowledged only when the handler calls `InboundMessage.ack()` (after
  its database commit); anything unacknowledged when the connection drops or `stop()` runs is
  delivered again by the broker, with the same message id;
- a lost connection is re-established in the background with exponential backoff (and jitter);
  a `send` issued meanwhile waits for it up to `send_timeout`, then raises TransportError. A
  confirm that does not come within `confirm_timeout`, or a nack, is not retried on that
  channel: the message goes again on a new one (see `_renew_publish_channel`). A send retried
  after a lost confirmation may duplicate the message: receivers drop duplicates by message id.

Inbound messages are handed to the handler one at a time, in delivery order, like the in-memory
transport. A message without a user id, without a message id, or from a user id that maps to
no known peer is rejected (not requeued) and logged.

With a `Sealer` every payload is sealed end to end to its recipient (`dlt.messaging.sealing`):
the broker sees envelopes only, and a body that does not open as from its sender (altered,
forged or unsealed) is rejected, logged and reported to `on_drop("unsealable")`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import aiormq.exceptions
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    DeliveryMode,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelInvalidStateError
from yarl import URL

from dlt.crypto import PublicKey
from dlt.identity import X500Name
from dlt.messaging.sealing import Sealer, SealError
from dlt.messaging.tls import TlsMaterial
from dlt.messaging.transport import (
    InboundMessage,
    MessageHandler,
    OutboundMessage,
    TransportError,
)

log = logging.getLogger(__name__)

INBOX_PREFIX = "p2p.inbound."
DEFAULT_PREFETCH = 65_535
"""The AMQP maximum: a node holds messages unacknowledged until the flow that receives them
commits, so with thousands of flows in flight a small prefetch would stall delivery."""
DEFAULT_MAX_IN_FLIGHT = 256

QueueResolver = Callable[[X500Name], str]
SenderResolver = Callable[[str], X500Name | None]


def inbox_queue_name(identity_key: PublicKey) -> str:
    """`p2p.inbound.<key hash>`: the inbox of the node whose legal identity key this is."""
    return f"{INBOX_PREFIX}{identity_key.fingerprint}"


# Errors that retrying cannot fix: the broker refused our certificate or our user.
_PERMANENT_AMQP_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AuthenticationError,
    aiormq.exceptions.ProbableAuthenticationError,
    aiormq.exceptions.ConnectionNotAllowed,
    aiormq.exceptions.ChannelAccessRefused,
    aiormq.exceptions.ChannelNotFoundEntity,
    aiormq.exceptions.ChannelPreconditionFailed,
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _is_permanent(exc: BaseException) -> bool:
    for cause in _causes(exc):
        if isinstance(cause, _PERMANENT_AMQP_ERRORS):
            return True
        if isinstance(cause, ssl.SSLError) and not isinstance(
            cause, ssl.SSLEOFError | ssl.SSLZeroReturnError
        ):
            return True
        if isinstance(cause, aiormq.exceptions.ConnectionClosed) and cause.args[:1] == (403,):
            return True
    return False


def _describe(exc: BaseException) -> str:
    parts = []
    for cause in _causes(exc):
        text = f"{type(cause).__name__}: {cause}".strip()
        if text not in parts:
            parts.append(text)
    return "; caused by ".join(parts)


class AmqpTransport:
    """One node's Transport over a RabbitMQ broker; see the module docstring for semantics."""

    def __init__(
        self,
        our_name: X500Name,
        broker_url: str,
        inbox_queue: str,
        tls: TlsMaterial,
        resolve_queue: QueueResolver,
        sender_from_user_id: SenderResolver,
        *,
        prefetch: int = DEFAULT_PREFETCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        send_timeout: float = 30.0,
        confirm_timeout: float = 5.0,
        connect_timeout: float = 30.0,
        reconnect_initial_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        declare_inbox: bool = True,
        consume_inbox: bool = True,
        sealer: Sealer | None = None,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        """`broker_url` is `amqps://host:port/vhost` (vhost `/` as `%2F`); EXTERNAL auth is
        added. `resolve_queue` maps a peer to its inbox queue and may raise LookupError for an
        unknown peer; `sender_from_user_id` maps a broker-validated user id (a peer's
        `broker_user_name`) to the peer's name, or None when no known peer has it. With
        `declare_inbox` the node declares its durable inbox itself (it needs configure
        permission on it), otherwise the queue must exist already.

        `prefetch` bounds the deliveries the broker hands over before any is acknowledged. A
        handler that holds messages unacknowledged while it waits for later ones (as the flow
        engine does with early session messages) needs a prefetch above the number it may
        hold, or delivery stalls once `prefetch` messages are held."""
        url = URL(broker_url)
        if url.scheme != "amqps":
            raise ValueError(
                f"broker URL {broker_url!r} must use amqps://: nodes talk to brokers over TLS only"
            )
        if url.user or url.password:
            raise ValueError(
                "the broker URL must not carry credentials: nodes log in by certificate"
            )
        if prefetch < 1 or max_in_flight < 1:
            raise ValueError("prefetch and max_in_flight must be at least 1")
        if confirm_timeout <= 0:
            raise ValueError("confirm_timeout must be positive")
        self.our_name = our_name
        self.inbox_queue = inbox_queue
        self.user_id = tls.user_name
        self._url = url.update_query(auth="external")
        self._tls = tls
        self._ssl_context: ssl.SSLContext | None = None
        self._resolve_queue = resolve_queue
        self._sender_from_user_id = sender_from_user_id
        self._prefetch = prefetch
        self._max_in_flight = max_in_flight
        self._window = asyncio.Semaphore(max_in_flight)
        self._send_timeout = send_timeout
        self._confirm_timeout = confirm_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_initial = reconnect_initial_delay
        self._reconnect_max = reconnect_max_delay
        self._declare_inbox = declare_inbox
        self._consume_inbox = consume_inbox
        self._sealer = sealer
        self._on_drop = on_drop

        self._handler: MessageHandler | None = None
        self._started = False
        self._connection: AbstractConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._on_lost: Callable[..., None] | None = None
        self._renewing = asyncio.Lock()
        self._generation = 0
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._stopped = asyncio.Event()
        self._inbox: asyncio.Queue[tuple[int, AbstractIncomingMessage]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self.reconnections = 0
        """How many times the connection was re-established after a loss (for tests, metrics)."""

    def __repr__(self) -> str:
        return f"AmqpTransport({self.our_name}, {self._url.with_query(None)}, {self.inbox_queue})"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, handler: MessageHandler) -> None:
        """Connect, declare the inbox and start delivering; raises TransportError when the
        broker refuses us (certificate, user, permissions) or stays unreachable for
        `connect_timeout` seconds."""
        if self._started:
            raise TransportError(f"{self.our_name}'s AMQP transport is already started")
        self._handler = handler
        # Fresh primitives: they bind to the event loop they are first used on.
        self._window = asyncio.Semaphore(self._max_in_flight)
        self._renewing = asyncio.Lock()
        self._stopped = asyncio.Event()
        self._connected = asyncio.Event()
        self._inbox = asyncio.Queue()
        await self._connect_initially()
        self._started = True
        loop = asyncio.get_running_loop()
        self._pump = loop.create_task(self._run_pump(), name=f"amqp-pump {self.user_id}")
        self._supervisor = loop.create_task(
            self._supervise(), name=f"amqp-reconnect {self.user_id}"
        )

    async def stop(self) -> None:
        """Stop delivering and close the connection; unacknowledged messages go back to the
        inbox for the next start."""
        if not self._started:
            return
        self._started = False
        self._stopped.set()
        self._generation += 1  # acks of deliveries from now on are moot: they come again
        for task in (self._supervisor, self._pump):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._supervisor, self._pump) if t is not None), return_exceptions=True
        )
        self._supervisor = self._pump = None
        await self._close_connection()
        while not self._inbox.empty():
            self._inbox.get_nowait()

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        """Publish persistently to the recipient's inbox; returns once the broker confirmed."""
        if not self._started:
            raise TransportError(f"{self.our_name}'s AMQP transport is not started")
        try:
            queue = self._resolve_queue(message.recipient)
        except Exception as exc:
            raise TransportError(f"no inbox queue is known for {message.recipient}: {exc}") from exc
        payload = message.payload
        if self._sealer is not None:
            try:
                payload = self._sealer.seal(message.recipient, message.message_id, payload)
            except SealError as exc:
                raise TransportError(f"cannot seal message {message.message_id}: {exc}") from exc
        amqp_message = aio_pika.Message(
            body=payload,
            message_id=message.message_id,
            user_id=self.user_id,
            delivery_mode=DeliveryMode.PERSISTENT,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._send_timeout
        attempt = 0
        async with self._window:
            while True:
                channel = await self._ready_channel(deadline, message)
                try:
                    await channel.default_exchange.publish(
                        amqp_message,
                        routing_key=queue,
                        mandatory=True,
                        timeout=max(0.001, min(self._confirm_timeout, deadline - loop.time())),
                    )
                    return
                except aiormq.exceptions.PublishError as exc:
                    raise TransportError(
                        f"the broker has no queue {queue!r} for {message.recipient}; "
                        "the message was returned unrouted"
                    ) from exc
                except (*CONNECTION_EXCEPTIONS, ChannelInvalidStateError, TimeoutError) as exc:
                    # Broker nack, lost connection or confirm timeout: try again while time
                    # remains. The broker may already hold it: a duplicate, dropped by id.
                    if loop.time() >= deadline:
                        raise TransportError(
                            f"the broker did not confirm message {message.message_id} to "
                            f"{message.recipient} within {self._send_timeout} s: {_describe(exc)}"
                        ) from exc
                    log.debug("publish of %s failed (%s); retrying", message.message_id, exc)
                    if isinstance(exc, TimeoutError | aiormq.exceptions.DeliveryError):
                        await self._renew_publish_channel(channel)
                        continue
                attempt += 1
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0, max(0.0, deadline - loop.time())))

    async def _renew_publish_channel(self, stale: AbstractChannel) -> None:
        """Publish on a new channel from now on. RabbitMQ orders each channel's publishes to a
        quorum queue: after a leader change, every later publish on that channel can go
        unconfirmed, or be nacked, for good (both seen with a consortium member killed), while
        a new channel is a new publisher with no gap to wait for."""
        async with self._renewing:
            connection, on_lost = self._connection, self._on_lost
            if stale is not self._publish_channel or connection is None or on_lost is None:
                return  # another send renewed it, or the supervisor is reconnecting
            try:
                fresh = await connection.channel(publisher_confirms=True, on_return_raises=True)
            except (*CONNECTION_EXCEPTIONS, ChannelInvalidStateError) as exc:
                log.info("%s: cannot open a new publishing channel (%s)", self.our_name, exc)
                return  # the connection is going; reconnecting gives a new channel anyway
            fresh.close_callbacks.add(on_lost)
            stale.close_callbacks.discard(on_lost)
            self._publish_channel = fresh
        log.warning(
            "%s: the broker at %s refused or did not confirm (within %.1f s) a publish on the "
            "publishing channel; publishing on a new one",
            self.our_name,
            self._url.with_query(None),
            self._confirm_timeout,
        )
        # Its unconfirmed publishes fail at once and go again on the new channel.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stale.close(), 5)

    async def _ready_channel(self, deadline: float, message: OutboundMessage) -> AbstractChannel:
        loop = asyncio.get_running_loop()
        while True:
            if not self._started:
                raise TransportError(f"{self.our_name}'s AMQP transport was stopped")
            channel = self._publish_channel
            if self._connected.is_set() and channel is not None and not channel.is_closed:
                return channel
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TransportError(
                    f"not connected to the broker at {self._url.with_query(None)}; message "
                    f"{message.message_id} to {message.recipient} was not sent "
                    f"(still reconnecting after {self._send_timeout} s)"
                )
            waiters = [
                asyncio.ensure_future(self._connected.wait()),
                asyncio.ensure_future(self._stopped.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if self._connected.is_set() and channel is self._publish_channel:
                # Connected but the channel is closed; let the supervisor notice.
                await asyncio.sleep(0.01)

    # -- connecting -----------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = self._tls.ssl_context()
        return self._ssl_context

    async def _connect_initially(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout
        delay = self._reconnect_initial
        while True:
            try:
                await self._open()
                return
            except Exception as exc:
                if _is_permanent(exc) or loop.time() + delay > deadline:
                    raise TransportError(
                        f"cannot connect to the broker at {self._url.with_query(None)} as "
                        f"{self.user_id!r} ({self.our_name}): {_describe(exc)}"
                    ) from exc
                log.info("broker not reachable yet (%s); retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max)

    async def _open(self) -> None:
        """Connect, open a publishing and a consuming channel, and consume the inbox."""
        loop = asyncio.get_running_loop()
        connection = await aio_pika.connect(
            self._url,
            ssl_context=self._context(),
            timeout=self._connect_timeout,
            client_properties={"connection_name": f"dlt {self.our_name}"},
        )
        try:
            publish = await connection.channel(publisher_confirms=True, on_return_raises=True)
            lost = asyncio.Event()
            self._generation += 1
            generation = self._generation

            def on_close(*_: Any) -> None:
                if generation == self._generation:
                    lost.set()

            connection.close_callbacks.add(on_close)
            publish.close_callbacks.add(on_close)
            channels = [publish]
            if self._consume_inbox:
                channels.append(await self._consume(connection, generation, on_close))
            if connection.is_closed or any(channel.is_closed for channel in channels):
                lost.set()  # it dropped before the callbacks were in place
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)
            raise
        self._connection = connection
        self._publish_channel = publish
        self._on_lost = on_close
        self._lost = lost
        self._connected.set()
        log.debug(
            "%s connected to %s at %.3f", self.user_id, self._url.with_query(None), loop.time()
        )

    async def _consume(
        self, connection: AbstractConnection, generation: int, on_close: Callable[..., None]
    ) -> AbstractChannel:
        """Open the consuming channel and hand the inbox's deliveries to the pump."""
        consume = await connection.channel(publisher_confirms=False)
        await consume.set_qos(prefetch_count=self._prefetch)
        if self._declare_inbox:
            queue = await consume.declare_queue(self.inbox_queue, durable=True)
        else:
            queue = await consume.get_queue(self.inbox_queue, ensure=True)
        consume.close_callbacks.add(on_close)

        async def on_delivery(incoming: AbstractIncomingMessage) -> None:
            self._inbox.put_nowait((generation, incoming))

        await queue.consume(on_delivery, no_ack=False)
        return consume

    async def _close_connection(self) -> None:
        self._connected.clear()
        connection, self._connection = self._connection, None
        self._publish_channel = self._on_lost = None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 10)

    async def _supervise(self) -> None:
        """Wait for the connection (or a channel) to drop; reconnect with exponential backoff."""
        while True:
            await self._lost.wait()
            log.warning(
                "%s lost its broker connection to %s; reconnecting",
                self.our_name,
                self._url.with_query(None),
            )
            self._generation += 1  # deliveries on the dead channel will be redelivered
            await self._close_connection()
            delay = self._reconnect_initial
            while True:
                try:
                    await self._open()
                except Exception as exc:
                    level = logging.ERROR if _is_permanent(exc) else logging.INFO
                    log.log(
                        level,
                        "%s: reconnecting to the broker failed (%s); next try in %.2f s",
                        self.our_name,
                        _describe(exc),
                        delay,
                    )
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                    delay = min(delay * 2, self._reconnect_max)
                    continue
                self.reconnections += 1
                log.info("%s reconnected to the broker", self.our_name)
                break

    # -- receiving ------------------------------------------------------------------------

    async def _run_pump(self) -> None:
        while True:
            generation, incoming = await self._inbox.get()
            if generation != self._generation:
                continue  # its channel is gone; the broker redelivers it
            sender = self._sender_of(incoming)
            if sender is None or not incoming.message_id:
                await self._reject(generation, incoming, sender)
                continue
            payload = incoming.body
            if self._sealer is not None:
                try:
                    payload = self._sealer.open(sender, incoming.message_id, payload)
                except SealError as exc:
                    await self._reject(generation, incoming, sender, str(exc))
                    if self._on_drop is not None:
                        self._on_drop("unsealable")
                    continue
            inbound = InboundMessage(
                sender=sender,
                message_id=incoming.message_id,
                payload=payload,
                _ack=self._acker(generation, incoming),
            )
            handler = self._handler
            assert handler is not None
            try:
                await handler(inbound)
            except Exception:
                log.exception(
                    "the handler failed on message %s from %s; it stays unacknowledged",
                    incoming.message_id,
                    sender,
                )

    def _sender_of(self, incoming: AbstractIncomingMessage) -> X500Name | None:
        user_id = incoming.user_id
        if not user_id:
            return None
        if user_id == self.user_id:
            return self.our_name
        try:
            return self._sender_from_user_id(user_id)
        except Exception:
            log.exception("mapping broker user %r to a peer failed", user_id)
            return None

    async def _reject(
        self,
        generation: int,
        incoming: AbstractIncomingMessage,
        sender: X500Name | None,
        why: str | None = None,
    ) -> None:
        if why is not None:
            reason = why
        elif sender is None:
            reason = (
                "it has no user id"
                if not incoming.user_id
                else f"user id {incoming.user_id!r} belongs to no known peer"
            )
        else:
            reason = "it has no message id"
        log.warning(
            "%s rejects message %s on %s: %s",
            self.our_name,
            incoming.message_id,
            self.inbox_queue,
            reason,
        )
        await self._settle(generation, incoming, lambda: incoming.reject(requeue=False))

    def _acker(
        self, generation: int, incoming: AbstractIncomingMessage
    ) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            await self._settle(generation, incoming, incoming.ack)

        return ack

    async def _settle(
        self,
        generation: int,
        incoming: AbstractIncomingMessage,
        action: Callable[[], Awaitable[None]],
    ) -> None:
        """Ack or reject on the channel it came on; if that is gone the broker redelivers it,
        which the receiver's duplicate check absorbs, so a failure here is not an error."""
        if generation != self._generation:
            log.debug(
                "message %s came on a closed channel; it will come again", incoming.message_id
            )
            return
        try:
            await action()
        except (*CONNECTION_EXCEPTIONS, ChannelInvalidStateError) as exc:
            log.debug(
                "settling message %s failed (%s); it will come again", incoming.message_id, exc
            )
