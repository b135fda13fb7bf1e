"""The transport contract every implementation keeps, in memory or over AMQP.

Delivery is at least once. A receiver acknowledges a message only once its effects are
committed; an unacknowledged message is delivered again after a restart. Senders give every
message a deterministic id so receivers can drop the duplicates this produces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from dlt.identity import X500Name


class TransportError(Exception):
    """A message could not be handed to the network; retrying later may succeed."""


@dataclass(frozen=True)
class OutboundMessage:
    recipient: X500Name
    message_id: str
    payload: bytes


@dataclass(eq=False)
class InboundMessage:
    """A delivered message. `sender` is vouched for by the transport, not by the payload."""

    sender: X500Name
    message_id: str
    payload: bytes
    _ack: Callable[[], Awaitable[None]] = field(repr=False)
    _acked: bool = field(default=False, repr=False)

    async def ack(self) -> None:
        """Tell the transport the message's effects are durable; it will not come again."""
        if not self._acked:
            self._acked = True
            await self._ack()

    @property
    def acked(self) -> bool:
        return self._acked


MessageHandler = Callable[[InboundMessage], Awaitable[None]]


class Transport(Protocol):
    """How a node reaches its peers. One instance per node."""

    async def start(self, handler: MessageHandler) -> None:
        """Begin delivering inbound messages to `handler`, redelivering unacknowledged ones."""

    async def send(self, message: OutboundMessage) -> None:
        """Hand a message to the network durably; raises TransportError if it cannot."""

    async def stop(self) -> None:
        """Stop delivering; unacknowledged messages stay queued for the next start."""
