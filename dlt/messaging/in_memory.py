"""An in-memory network with the real transport's semantics and faults on demand.

Each node has an inbox that survives the node's restarts, like a broker queue. Messages are
delivered in order unless a fault says otherwise; unacknowledged messages come back when the
node starts again. Faults (drop, delay, duplicate, reorder) are rules matched per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dlt.identity import X500Name
from dlt.messaging.transport import (
    InboundMessage,
    MessageHandler,
    OutboundMessage,
    TransportError,
)


@dataclass(frozen=True)
class _Queued:
    sender: X500Name
    message: OutboundMessage
    delivery_tag: int


MessageFilter = Callable[[X500Name, OutboundMessage], bool]


@dataclass
class Fault:
    """What to do to messages that `matches`: drop, delay, duplicate or hold back (reorder)."""

    matches: MessageFilter
    drop: bool = False
    delay: float = 0.0
    duplicate: int = 0
    reorder: bool = False
    remaining: int | None = None
    """How many more messages this fault applies to; None for no limit."""

    def take(self) -> bool:
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass
class _Inbox:
    ready: list[_Queued] = field(default_factory=list)
    unacked: dict[int, _Queued] = field(default_factory=dict)
    held: list[_Queued] = field(default_factory=list)
    handler: MessageHandler | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    pump: asyncio.Task[None] | None = None


class InMemoryNetwork:
    """The shared 'broker' of a MockNetwork."""

    def __init__(self) -> None:
        self._inboxes: dict[X500Name, _Inbox] = {}
        self._faults: list[Fault] = []
        self._tags = 0
        self.sent: list[tuple[X500Name, OutboundMessage]] = []

    def transport(self, name: X500Name) -> InMemoryTransport:
        self._inboxes.setdefault(name, _Inbox())
        return InMemoryTransport(self, name)

    # -- faults ---------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    def release_held(self) -> None:
        """Deliver every message a reorder fault held back, newest first."""
        for inbox in self._inboxes.values():
            inbox.ready.extend(reversed(inbox.held))
            inbox.held.clear()
            inbox.wakeup.set()

    # -- delivery -------------------------------------------------------------------------

    def _enqueue(self, sender: X500Name, message: OutboundMessage) -> None:
        inbox = self._inboxes.get(message.recipient)
        if inbox is None:
            raise TransportError(f"no node called {message.recipient} is on this network")
        self.sent.append((sender, message))
        copies, delay, hold = 1, 0.0, False
        for fault in self._faults:
            if fault.matches(sender, message) and fault.take():
                if fault.drop:
                    return
                copies += fault.duplicate
                delay = max(delay, fault.delay)
                hold = hold or fault.reorder
        for _ in range(copies):
            self._tags += 1
            queued = _Queued(sender, message, self._tags)
            if hold:
                inbox.held.append(queued)
            elif delay:
                asyncio.get_running_loop().call_later(delay, self._arrive, inbox, queued)
            else:
                self._arrive(inbox, queued)

    @staticmethod
    def _arrive(inbox: _Inbox, queued: _Queued) -> None:
        inbox.ready.append(queued)
        inbox.wakeup.set()

    def _attach(self, name: X500Name, handler: MessageHandler) -> None:
        inbox = self._inboxes[name]
        inbox.handler = handler
        inbox.ready[:0] = sorted(inbox.unacked.values(), key=lambda q: q.delivery_tag)
        inbox.unacked.clear()
        inbox.wakeup = asyncio.Event()
        inbox.wakeup.set()
        inbox.pump = asyncio.get_running_loop().create_task(self._pump(name, inbox))

    async def _detach(self, name: X500Name) -> None:
        inbox = self._inboxes[name]
        inbox.handler = None
        if inbox.pump is not None:
            inbox.pump.cancel()
            await asyncio.gather(inbox.pump, return_exceptions=True)
            inbox.pump = None

    async def _pump(self, name: X500Name, inbox: _Inbox) -> None:
        while True:
            await inbox.wakeup.wait()
            inbox.wakeup.clear()
            while inbox.ready and inbox.handler is not None:
                queued = inbox.ready.pop(0)
                inbox.unacked[queued.delivery_tag] = queued
                message = InboundMessage(
                    sender=queued.sender,
                    message_id=queued.message.message_id,
                    payload=queued.message.payload,
                    _ack=self._acker(inbox, queued.delivery_tag),
                )
                await inbox.handler(message)

    @staticmethod
    def _acker(inbox: _Inbox, tag: int) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            inbox.unacked.pop(tag, None)

        return ack

    def pending(self, name: X500Name) -> int:
        """Messages for `name` not yet acknowledged (queued, held or in flight)."""
        inbox = self._inboxes[name]
        return len(inbox.ready) + len(inbox.unacked) + len(inbox.held)


class InMemoryTransport:
    """One node's view of an InMemoryNetwork."""

    def __init__(self, network: InMemoryNetwork, name: X500Name) -> None:
        self._network = network
        self._name = name
        self._started = False

    async def start(self, handler: MessageHandler) -> None:
        self._network._attach(self._name, handler)
        self._started = True

    async def send(self, message: OutboundMessage) -> None:
        if not self._started:
            raise TransportError(f"{self._name}'s transport is not started")
        self._network._enqueue(self._name, message)

    async def stop(self) -> None:
        self._started = False
        await self._network._detach(self._name)
