"""Point-to-point messaging between nodes: the transport interface and its implementations."""

from dlt.messaging.transport import (
    InboundMessage,
    MessageHandler,
    OutboundMessage,
    Transport,
    TransportError,
)

__all__ = ["InboundMessage", "MessageHandler", "OutboundMessage", "Transport", "TransportError"]
