"""Raw bytes into another node's inbox: what a malformed-input fuzzer sends over P2P.

The attacker's node is admitted, so the broker delivers whatever it publishes (attributed to
it); the recipient must drop what it cannot read and start nothing it should not.
"""

from __future__ import annotations

import secrets

from pydantic import Field

from dlt.flows import FlowLogic, flow
from dlt.identity import X500Name
from dlt.messaging import OutboundMessage

MAX_MESSAGES = 500


@flow("attack.PublishRaw", initiating=True, rpc=True)
class PublishRawFlow(FlowLogic[int]):
    """Publish each of `payloads_hex` (hex-encoded message bodies) to `recipient` as is."""

    recipient: X500Name
    payloads_hex: tuple[str, ...] = Field(max_length=MAX_MESSAGES)

    async def call(self) -> int:
        self.services.identity.require_party(self.recipient)
        transport = self.fiber.host.transport
        for body in self.payloads_hex:
            message_id = f"fuzz-{secrets.token_hex(8)}"
            await transport.send(OutboundMessage(self.recipient, message_id, bytes.fromhex(body)))
        return len(self.payloads_hex)
