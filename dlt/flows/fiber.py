"""A Fiber runs one flow (and its sub-flows) durably, by replaying its journal.

Every step whose outcome could differ between runs - a received message, the time, random
bytes, database work - is appended to the journal, in the same database transaction as its
effects. After a crash the fiber runs the flow's code again from the start; each such step
then returns its journaled outcome until the journal is used up, and the flow carries on live.
Sends are not journaled: a replay sends again and the receiver drops what it already has.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from dlt.encoding import decode, encode
from dlt.flows import storage
from dlt.flows.errors import (
    CounterpartyFlowError,
    FlowTimeoutError,
    ReplayDivergenceError,
    UnexpectedFlowEndError,
    UnexpectedMessageTypeError,
)
from dlt.flows.protocol import Received, SessionMessage, SessionMessageKind
from dlt.identity import Party, X500Name
from dlt.messaging.transport import InboundMessage
from dlt.vault.database import Database

if TYPE_CHECKING:
    from dlt.flows.api import FlowLogic, FlowSession
    from dlt.node.services import ServiceHub

R = TypeVar("R")

CrashHook = Callable[[str, range, str], None]
"""Called as (flow id, journal steps written, "before" | "after") around every commit; tests
raise from it to crash a node at an exact step. A commit writing no step covers the next one."""


class FiberHost(Protocol):
    """What a fiber needs from its engine."""

    services: ServiceHub
    db: Database
    crash_hook: CrashHook | None

    async def publish(self, recipient: X500Name, message: SessionMessage) -> None: ...

    def deliver_early(self, flow_id: str, state: SessionState) -> list[InboundMessage]: ...


@dataclass(eq=False)
class SessionState:
    """One side of a session: sequence counters and messages waiting to be received."""

    session_id: str
    counterparty: Party
    initiator: bool
    protocol: str | None = None
    protocol_version: int = 1
    send_seq: int = 0
    recv_seq: int = 0
    init_sent: bool = False
    inbox: dict[int, tuple[SessionMessage, InboundMessage]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    watchers: set[asyncio.Event] = field(default_factory=set)
    """Events of receives waiting on this and other sessions at once."""
    quiet: bool = False
    """Never told that this side ended or failed: the counterparty expects nothing more after
    its answer (a notary replica), so the END or ERROR would only cost a message."""
    received: dict[int, tuple[SessionMessage, InboundMessage]] = field(default_factory=dict)
    """Messages received but not yet journaled: acknowledged after the commit that journals
    them, or put back in the inbox if the fiber starts again first."""
    copies: list[InboundMessage] = field(default_factory=list)
    """Further deliveries of messages in `received`, acknowledged after the same commit."""
    held_back: list[bytes] = field(default_factory=list)
    """Payloads sent only when this side next sends or waits; this side's END stands for
    them (see `Fiber.send_unless_ending`)."""
    ending: Received | None = None
    """The counterparty's END or ERROR, once received: it sends and reads nothing more, and
    every later receive on this session returns the same ending at once."""

    def reset(self) -> None:
        """Back to the start, for a replay; messages already delivered stay in the inbox,
        and so do those received since the last commit (the replay receives them again)."""
        self.inbox.update(self.received)
        self.received.clear()
        self.held_back.clear()
        self.ending = None
        self.send_seq = 1 if self.initiator else 0
        self.recv_seq = 0 if self.initiator else 1
        self.init_sent = False

    def __post_init__(self) -> None:
        self.reset()

    def accept(self, message: SessionMessage, inbound: InboundMessage) -> bool:
        """Hold a message until received; False for a duplicate or stale one (caller acks).

        The engine calls this only for messages the session's counterparty sent."""
        if message.seq in self.received:
            # A copy (a replayed send, a redelivery) of a message whose receive is not yet
            # committed: acknowledged with it, after the commit, never before.
            self.copies.append(inbound)
            return True
        if message.seq < self.recv_seq or message.seq in self.inbox:
            return False
        self.inbox[message.seq] = (message, inbound)
        self.arrived.set()
        for watcher in self.watchers:
            watcher.set()
        return True

    @property
    def peer_has_ended(self) -> bool:
        """Whether the counterparty ended or failed its flow, as received or waiting here."""
        return self.ending is not None or any(
            message.kind in (SessionMessageKind.END, SessionMessageKind.ERROR)
            for message, _ in self.inbox.values()
        )

    def discard_stale(self) -> list[InboundMessage]:
        stale = [seq for seq in self.inbox if seq < self.recv_seq]
        return [self.inbox.pop(seq)[1] for seq in stale]

    async def next_message(self, timeout: float | None) -> tuple[SessionMessage, InboundMessage]:
        async with asyncio.timeout(timeout):
            while self.recv_seq not in self.inbox:
                self.arrived.clear()
                await self.arrived.wait()
        return self.inbox.pop(self.recv_seq)


class Fiber:
    """The runtime of one top-level flow."""

    def __init__(
        self,
        host: FiberHost,
        flow_id: str,
        journal: list[storage.JournalEntry],
        build_flow: Callable[[Fiber], FlowLogic[Any]],
        *,
        unwritten_row: Callable[[Session], None] | None = None,
    ) -> None:
        self.host = host
        self.services = host.services
        self.flow_id = flow_id
        self._journal = journal
        self._build_flow = build_flow
        self._position = 0
        self._pending: list[storage.JournalEntry] = []
        self._session_counter = 0
        self.sessions: dict[str, SessionState] = {}
        self.steps: list[str] = []
        self.step_listeners: list[asyncio.Queue[str | None]] = []
        self.finishing = False
        """Set once the flow has returned or failed: it will receive nothing more."""
        self.flow = build_flow(self)
        self.checkpointed = type(self.flow).checkpointed
        self._acknowledged: list[InboundMessage] = []
        """Identities of the deliveries an uncheckpointed fiber acknowledged on receipt; it
        keeps what it received, since starting again means receiving everything again."""
        self._last_sent: tuple[BaseModel, bytes] | None = None
        """The last frozen payload sent and its bytes (see `_encoded`)."""
        self._unwritten_row = unwritten_row
        """The flow's own row, when it is to be written with the flow's first write rather
        than in a commit of its own (a responder: a crash before that write has the broker
        deliver its session-init again, and the responder starts again from nothing)."""

    # -- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        """Prepare to run the flow again from its first step, replaying the journal."""
        self.finishing = False
        self._position = 0
        self._unjournaled = 0
        self._pending.clear()
        self._session_counter = 0
        for state in self.sessions.values():
            state.reset()
        self.steps.clear()
        self.flow = self._build_flow(self)

    def _next_seq(self) -> int:
        return len(self._journal) + len(self._pending) + self._unjournaled

    _unjournaled = 0
    """Steps an uncheckpointed fiber has passed without writing them, so its crash points
    are numbered as a checkpointed one's would be."""

    def _replayed(self, kind: str) -> bytes | None:
        if self._position >= len(self._journal):
            return None
        entry = self._journal[self._position]
        if entry.kind != kind:
            raise ReplayDivergenceError(
                f"flow {self.flow_id} ({type(self.flow).__name__}) took step {kind!r} where "
                f"its journal has {entry.kind!r} at step {entry.seq}"
            )
        self._position += 1
        return entry.payload

    async def commit(
        self,
        entry: storage.JournalEntry | None,
        effect: Callable[[Session], Any] | None = None,
        *,
        journal_result: str | None = None,
    ) -> Any:
        """Write pending journal entries, `entry` and `effect` in one database transaction.

        With `journal_result`, the effect's result is encoded and journaled as one more entry
        of that kind in the same transaction, and its encoding is returned. An uncheckpointed
        fiber writes no journal: it runs the effect alone, if there is one."""
        if not self.checkpointed:
            return await self._commit_unjournaled(entry, effect, journal_result)
        entries = [*self._pending, *([entry] if entry is not None else [])]
        first = entries[0].seq if entries else self._next_seq()
        last = first + len(entries) + (1 if journal_result else 0)
        steps = range(first, max(last, first + 1))
        hook = self.host.crash_hook
        if hook is not None:
            hook(self.flow_id, steps, "before")
        written = list(entries)

        def unit(session: Session) -> Any:
            storage.append_journal(session, self.flow_id, entries)
            result = effect(session) if effect is not None else None
            if journal_result is None:
                return result
            encoded = encode(result)
            produced = storage.JournalEntry(first + len(entries), journal_result, encoded)
            storage.append_journal(session, self.flow_id, [produced])
            written.append(produced)
            return encoded

        result = await self.write(unit)
        self._journal.extend(written)
        self._pending.clear()
        self._position = len(self._journal)
        if hook is not None:
            hook(self.flow_id, steps, "after")
        await self._acknowledge_received()
        return result

    async def write(self, work: Callable[[Session], R]) -> R:
        """Run `work` in one database transaction, with the flow's row first if it is not
        written yet: every write of a flow's own goes through here."""
        row = self._unwritten_row
        if row is None:
            return await self.host.db.write(work)

        def unit(session: Session) -> R:
            row(session)
            return work(session)

        result = await self.host.db.write(unit)
        self._unwritten_row = None
        return result

    async def _commit_unjournaled(
        self,
        entry: storage.JournalEntry | None,
        effect: Callable[[Session], Any] | None,
        journal_result: str | None,
    ) -> Any:
        """What `commit` does without the journal: the effect alone, with the crash hook
        called at the same points, so crash tests reach an uncheckpointed flow too."""
        first = self._next_seq() - len(self._pending)
        written = len(self._pending) + (1 if entry is not None else 0)
        steps = range(first, first + max(written + (1 if journal_result else 0), 1))
        hook = self.host.crash_hook
        if hook is not None:
            hook(self.flow_id, steps, "before")
        result = None
        if effect is not None:
            result = await self.host.db.write(effect)
            if journal_result is not None:
                result = encode(result)
        self._pending.clear()
        self._unjournaled += steps.stop - first if written or journal_result else 0
        if hook is not None:
            hook(self.flow_id, steps, "after")
        return result

    async def _acknowledge_received(self) -> None:
        """Acknowledge what the last commit journaled: acknowledgement follows the commit."""
        for state in self.sessions.values():
            if state.received or state.copies:
                done = [inbound for _, inbound in state.received.values()] + state.copies
                state.received.clear()
                state.copies = []
                await _ack_all(done)

    # -- deterministic inputs -------------------------------------------------------------

    def remember(self, kind: str, observe: Callable[[], R], expected: type[R]) -> R:
        """A value read from outside the flow (the clock, randomness, what the node has
        learnt), journaled with the next commit so a replay sees the very same value."""
        payload = self._replayed(kind)
        if payload is None:
            payload = encode(observe())
            self._pending.append(storage.JournalEntry(self._next_seq(), kind, payload))
        return decode(payload, expected)

    @property
    def replaying(self) -> bool:
        """Whether the flow is still catching up with its journal after a restart."""
        return self._position < len(self._journal)

    def now(self) -> datetime:
        return self.remember("now", self.services.clock, datetime)

    def random_bytes(self, size: int) -> bytes:
        return self.remember("random", lambda: os.urandom(size), bytes)

    async def sleep(self, seconds: float) -> None:
        await self.release_held_back()
        wake_at = self.now().timestamp() + seconds
        await asyncio.sleep(max(0.0, wake_at - self.services.clock().timestamp()))

    async def journaled_read(self, kind: str, work: Callable[[Session], R]) -> R:
        payload = self._replayed(kind)
        if payload is None:
            payload = encode(await self.host.db.read(work))
            self._pending.append(storage.JournalEntry(self._next_seq(), kind, payload))
        return decode(payload)  # type: ignore[no-any-return]

    async def durable(self, kind: str, work: Callable[[Session], R]) -> R:
        payload = self._replayed(kind)
        if payload is None:
            payload = await self.commit(None, work, journal_result=kind)
        # Live or replayed, the flow sees the decoded journal entry, so both paths agree.
        return decode(payload)  # type: ignore[no-any-return]

    # -- sessions -------------------------------------------------------------------------

    def open_session(self, flow: FlowLogic[Any], party: Party, quiet: bool = False) -> FlowSession:
        from dlt.flows.api import FlowSession

        self._session_counter += 1
        session_id = f"{self.flow_id}.{self._session_counter}"
        state = self.sessions.get(session_id)
        if state is None:
            state = SessionState(
                session_id=session_id,
                counterparty=party,
                initiator=True,
                protocol=type(flow).flow_name,
                protocol_version=type(flow).protocol_version,
                quiet=quiet,
            )
            self.sessions[session_id] = state
            for dropped in self.host.deliver_early(self.flow_id, state):
                asyncio.get_running_loop().create_task(dropped.ack())
        return FlowSession(self, state)

    def attach_responder_session(self, state: SessionState) -> FlowSession:
        from dlt.flows.api import FlowSession

        self.sessions[state.session_id] = state
        return FlowSession(self, state)

    async def send(
        self, state: SessionState, payload: Any, *, instead_of_held_back: bool = False
    ) -> None:
        data = self._encoded(payload)
        if self._pending:
            await self.commit(None)
        if instead_of_held_back:
            state.held_back.clear()
        await self._publish_held_back(state)
        await self._publish_data(state, data)

    def _encoded(self, payload: Any) -> bytes:
        """The bytes of `payload`. One frozen payload sent on several sessions (a notarisation
        request to each replica, a transaction to each participant) is encoded once: it
        cannot have changed in between."""
        last = self._last_sent
        if last is not None and last[0] is payload:
            return last[1]
        data = encode(payload)
        if isinstance(payload, BaseModel) and payload.model_config.get("frozen"):
            self._last_sent = (payload, data)
        return data

    def send_unless_ending(self, state: SessionState, payload: Any) -> None:
        """Send `payload` when this flow next sends on `state` or waits for anything; if it
        ends first, its END goes instead. For a message whose only meaning is "I need
        nothing more from you", which an END says as well: one message fewer."""
        state.held_back.append(encode(payload))

    async def release_held_back(self, *, commit: bool = True) -> None:
        """Send every held-back payload now: this flow is about to wait (or is parked), and a
        counterparty waiting for them could be what it waits for. `commit` first writes
        pending journal entries, as before any send."""
        if not any(state.held_back for state in self.sessions.values()):
            return
        if commit and self._pending:
            await self.commit(None)
        for state in self.sessions.values():
            await self._publish_held_back(state)

    async def _publish_held_back(self, state: SessionState) -> None:
        while state.held_back:
            await self._publish_data(state, state.held_back.pop(0))

    async def end_sessions(self, kind: SessionMessageKind, error: BaseException | None) -> None:
        """Tell each counterparty that still listens that this flow ended (`kind` END) or
        failed (ERROR). A session not told (quiet, or after an uncheckpointed responder's
        answer) and a failure first get what was held back; an END stands for it."""
        tell = kind is SessionMessageKind.ERROR or self.checkpointed
        for state in self.sessions.values():
            if state.peer_has_ended:
                state.held_back.clear()
                continue
            if kind is SessionMessageKind.ERROR or state.quiet or not tell:
                await self._publish_held_back(state)
            state.held_back.clear()
            if tell and not state.quiet:
                await self.send_control(state, kind, error)

    async def _publish_data(self, state: SessionState, data: bytes) -> None:
        if state.initiator and not state.init_sent:
            # The session-init (seq 0) carries the first payload, which the responder
            # receives as data seq 1: one message on the wire, not two.
            message = SessionMessage(
                kind=SessionMessageKind.INIT,
                session_id=state.session_id,
                from_initiator=True,
                seq=0,
                protocol=state.protocol,
                protocol_version=state.protocol_version,
                payload=data,
            )
            state.init_sent = True
        else:
            message = SessionMessage(
                kind=SessionMessageKind.DATA,
                session_id=state.session_id,
                from_initiator=state.initiator,
                seq=state.send_seq,
                payload=data,
            )
        state.send_seq += 1
        await self.host.publish(state.counterparty.name, message)

    async def send_control(
        self, state: SessionState, kind: SessionMessageKind, error: BaseException | None = None
    ) -> None:
        """Tell the counterparty this side ended or failed, so it does not wait forever."""
        if state.initiator and not state.init_sent:
            return
        message = SessionMessage(
            kind=kind,
            session_id=state.session_id,
            from_initiator=state.initiator,
            seq=state.send_seq,
            error_type=type(error).__name__ if error is not None else None,
            error_message=str(error) if error is not None else None,
        )
        state.send_seq += 1
        await self.host.publish(state.counterparty.name, message)

    async def receive(self, state: SessionState, kind: type[R], timeout: float | None) -> R:
        # Replayed or live, held-back messages go before every wait, so a replay sends them
        # with the very sequence numbers the first run did.
        await self.release_held_back()
        if state.ending is not None:
            return self._interpret(state, state.ending, kind)
        payload = self._replayed("receive")
        if payload is not None:
            record = decode(payload, Received)
            if record.kind is not SessionMessageKind.ERROR or record.error_type != "timeout":
                state.recv_seq += 1
            await _ack_all(state.discard_stale())
        else:
            record = await self._receive_live(state, timeout)
        return self._interpret(state, record, kind)

    async def _receive_live(self, state: SessionState, timeout: float | None) -> Received:
        seq = self._next_seq()
        try:
            message, inbound = await state.next_message(timeout)
        except TimeoutError:
            record = Received(message_id="", kind=SessionMessageKind.ERROR, error_type="timeout")
            await self.commit(storage.JournalEntry(seq, "receive", encode(record)))
            return record
        return await self._consume(state, message, inbound, seq, "receive", None)

    async def _consume(
        self,
        state: SessionState,
        message: SessionMessage,
        inbound: InboundMessage,
        seq: int,
        kind: str,
        session_id: str | None,
    ) -> Received:
        """Journal a received message with the flow's next commit, and acknowledge it only
        after that commit: its sequence number, journaled, is what makes a redelivered copy
        a duplicate. Until then a crash leaves it unacknowledged, so it is delivered again."""
        record = Received(
            message_id=message.message_id,
            kind=message.kind,
            payload=message.payload,
            error_type=message.error_type,
            error_message=message.error_message,
            session_id=session_id,
        )
        self._pending.append(storage.JournalEntry(seq, kind, encode(record)))
        state.received[message.seq] = (message, inbound)
        state.recv_seq += 1
        if not self.checkpointed and not self._was_acknowledged(inbound):
            # Nothing will journal it: a crash loses the flow, and its initiator asks again.
            self._acknowledged.append(inbound)
            await inbound.ack()
        return record

    def _was_acknowledged(self, inbound: InboundMessage) -> bool:
        return any(done is inbound for done in self._acknowledged)

    def unacknowledged(self) -> list[InboundMessage]:
        """Received deliveries not yet acknowledged, for an uncheckpointed fiber's end."""
        held = [
            inbound
            for state in self.sessions.values()
            for inbound in [*(pair[1] for pair in state.received.values()), *state.copies]
            if not self._was_acknowledged(inbound)
        ]
        for state in self.sessions.values():
            state.received.clear()
            state.copies = []
        return held

    async def receive_any(
        self, states: list[SessionState], timeout: float | None
    ) -> tuple[SessionState, Received] | None:
        """The next message from whichever of `states` has one first; None on timeout.

        Which session answered is journaled, so a replay takes the same path."""
        await self.release_held_back()
        for state in states:
            if state.ending is not None:  # not journaled: a replay reaches it the same way
                return state, state.ending
        payload = self._replayed("receive_any")
        if payload is not None:
            record = decode(payload, Received)
            if record.session_id is None:
                return None
            state = self.sessions[record.session_id]
            state.recv_seq += 1
            await _ack_all(state.discard_stale())
            return state, record
        seq = self._next_seq()
        found = await _first_ready(states, timeout)
        if found is None:
            record = Received(message_id="", kind=SessionMessageKind.ERROR, error_type="timeout")
            await self.commit(storage.JournalEntry(seq, "receive_any", encode(record)))
            return None
        message, inbound = found.inbox.pop(found.recv_seq)
        record = await self._consume(found, message, inbound, seq, "receive_any", found.session_id)
        return found, record

    def interpret(self, state: SessionState, record: Received, kind: type[R]) -> R:
        return self._interpret(state, record, kind)

    @staticmethod
    def _interpret(state: SessionState, record: Received, kind: type[R]) -> R:
        who = str(state.counterparty)
        if record.kind is not SessionMessageKind.DATA and record.error_type != "timeout":
            state.ending = record
        if record.kind is SessionMessageKind.DATA:
            value = decode(record.payload or b"")
            if not isinstance(value, kind):
                raise UnexpectedMessageTypeError(
                    f"{who} sent a {type(value).__name__} where a {kind.__name__} was expected; "
                    "do both nodes run the same CorDapp version?"
                )
            return value
        if record.kind is SessionMessageKind.END:
            raise UnexpectedFlowEndError(
                f"{who} ended its flow while this flow still expected a {kind.__name__}"
            )
        if record.error_type == "timeout":
            raise FlowTimeoutError(f"{who} sent nothing in time (expected a {kind.__name__})")
        raise CounterpartyFlowError(who, record.error_type or "error", record.error_message or "")

    # -- sub-flows and progress -----------------------------------------------------------

    async def run_sub_flow(self, flow: FlowLogic[R]) -> R:
        flow._fiber = self
        return await flow.call()

    def progress(self, label: str) -> None:
        self.steps.append(label)
        for listener in self.step_listeners:
            listener.put_nowait(label)

    def unconsumed(self) -> list[InboundMessage]:
        """Messages delivered to this flow's sessions but never received; from now on the
        engine acknowledges late arrivals at once, since no replay would receive them."""
        self.finishing = True
        held = [inbound for state in self.sessions.values() for _, inbound in state.inbox.values()]
        for state in self.sessions.values():
            state.inbox.clear()
        return held


async def _first_ready(states: list[SessionState], timeout: float | None) -> SessionState | None:
    """The first of `states` (in list order) with its next message waiting, else wait."""
    wake = asyncio.Event()
    for state in states:
        state.watchers.add(wake)
    try:
        async with asyncio.timeout(timeout):
            while True:
                for state in states:
                    if state.recv_seq in state.inbox:
                        return state
                wake.clear()
                await wake.wait()
    except TimeoutError:
        return None
    finally:
        for state in states:
            state.watchers.discard(wake)


async def _ack_all(messages: list[InboundMessage]) -> None:
    for message in messages:
        await message.ack()
