"""What flows send each other on the wire, and what a receive leaves in the journal."""

from __future__ import annotations

import enum

from pydantic import Field

from dlt.encoding import serializable
from dlt.ledger.states import LedgerModel


class SessionMessageKind(enum.StrEnum):
    INIT = "init"
    DATA = "data"
    END = "end"
    ERROR = "error"


@serializable("flows.SessionMessage")
class SessionMessage(LedgerModel):
    """One message of a session. `session_id` is the initiator's; `from_initiator` gives the
    direction, and `seq` orders the messages of one direction from 0."""

    kind: SessionMessageKind
    session_id: str = Field(min_length=1, max_length=200)
    from_initiator: bool
    seq: int = Field(ge=0)
    protocol: str | None = None
    protocol_version: int | None = None
    payload: bytes | None = None
    error_type: str | None = None
    error_message: str | None = None
    sent_at_us: int | None = None
    """When the sender handed it over (µs since the epoch): for latency metrics only."""

    @property
    def message_id(self) -> str:
        return message_id(self.session_id, self.from_initiator, self.seq)

    def first_data(self) -> SessionMessage | None:
        """The data a session-init carries: the initiator's first message (seq 1), so the
        responder receives it exactly as it would a separate data message. None for an
        init without a payload or any other message."""
        if self.kind is not SessionMessageKind.INIT or not self.from_initiator or not self.payload:
            return None
        return SessionMessage(
            kind=SessionMessageKind.DATA,
            session_id=self.session_id,
            from_initiator=True,
            seq=1,
            payload=self.payload,
            sent_at_us=self.sent_at_us,
        )


def message_id(session_id: str, from_initiator: bool, seq: int) -> str:
    """Deterministic, so a replayed send carries the id of the original and is dropped."""
    return f"{session_id}/{'i' if from_initiator else 'r'}/{seq}"


@serializable("flows.Received")
class Received(LedgerModel):
    """A journaled receive: the message as consumed, so a replay sees exactly the same."""

    message_id: str
    kind: SessionMessageKind
    payload: bytes | None = None
    error_type: str | None = None
    error_message: str | None = None
    session_id: str | None = None
    """For a receive from any of several sessions: the one that answered (None: timed out)."""
