"""The session protocol's messages on their own: what a session-init may carry."""

from __future__ import annotations

from dlt.encoding import encode
from dlt.flows.protocol import SessionMessage, SessionMessageKind


def test_a_session_init_carries_data_only_from_the_initiator():
    """Bob, a legitimate counterparty, sends an init into Alice's session as if he had opened
    it: its payload must never be taken for the initiator's first message."""
    init = SessionMessage(
        kind=SessionMessageKind.INIT,
        session_id="f.1",
        from_initiator=True,
        seq=0,
        protocol="test.Ping",
        payload=encode(7),
    )
    posing = init.model_copy(update={"from_initiator": False})
    empty = init.model_copy(update={"payload": None})

    first = init.first_data()
    assert first is not None
    assert (first.kind, first.seq, first.from_initiator, first.payload) == (
        SessionMessageKind.DATA,
        1,
        True,
        encode(7),
    )
    assert posing.first_data() is None
    assert empty.first_data() is None
