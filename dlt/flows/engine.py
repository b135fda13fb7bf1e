"""The flow engine: starts, routes, restores and retires a node's flows.

Thousands of flows run as tasks on one event loop. The engine owns the routing of inbound
session messages to fibers, creates responder flows when a peer opens a session, restores
every unfinished flow from its journal when the node starts, and applies the hospital's
diagnosis when a flow fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import time
import uuid
from collections import Counter, OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dlt.encoding import DecodingError, decode, encode
from dlt.flows import storage
from dlt.flows.api import FlowHandle, FlowLogic
from dlt.flows.errors import (
    FlowException,
    FlowHospitalisedError,
    FlowKilledError,
    FlowNotFoundError,
    FlowRegistrationError,
    FlowTimeoutError,
)
from dlt.flows.fiber import CrashHook, Fiber, SessionState
from dlt.flows.hospital import Hospital, Treatment
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.flows.registry import flow_class, responder_for
from dlt.flows.storage import FlowStatus
from dlt.identity import Party, X500Name
from dlt.ledger.errors import SignatureError, TransactionVerificationError
from dlt.messaging.transport import InboundMessage, OutboundMessage, Transport
from dlt.node.metrics import NodeMetrics
from dlt.vault.database import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dlt.node.services import ServiceHub

log = logging.getLogger(__name__)

MAX_EARLY_MESSAGES = 10_000
"""Messages held for sessions not open yet; kept well below the AMQP prefetch (65,535)."""

MAX_EARLY_MESSAGES_PER_SENDER = 1_000
"""So one peer flooding messages for sessions that do not exist cannot crowd out the rest."""

EARLY_MESSAGE_TTL = 60.0
"""Seconds a message waits for its session to open. One whose session's INIT was lost (the
END a client sends to a notary that never heard its request) would otherwise stay held and
unacknowledged for good, filling its sender's share until every early message of it is
refused. Over one sender's FIFO queue an INIT precedes its session's later messages, so a
minute is far beyond any reordering."""
FINISHED_UNCHECKPOINTED = 65_536
"""Uncheckpointed flows remembered as finished, so a duplicate session-init or a late
message for one is acknowledged and dropped rather than run or held."""


class NodeCrashedError(BaseException):
    """Raised by a crash hook to stop a node at an exact point; flows cannot catch it."""


def _name(fiber: Fiber) -> str:
    return type(fiber.flow).flow_name or type(fiber.flow).__name__


def _retrieve(result: asyncio.Future[Any]) -> None:
    """Mark a flow's failure as seen: responders' results often have no one waiting."""
    if not result.cancelled():
        result.exception()


def _shared(error: BaseException) -> FlowException:
    """What counterparties learn of a failure: a FlowException as raised, and why a transaction
    was refused (it is theirs, so the reason is too; Corda shares verification failures for
    the same reason); of anything else nothing, since it may describe private state."""
    if isinstance(error, FlowException):
        return error
    if isinstance(error, TransactionVerificationError | SignatureError):
        return FlowException(f"the counterparty refused the transaction: {error}")
    return FlowException("the counterparty's flow failed unexpectedly")


def responder_flow_id(sender: X500Name, session_id: str) -> str:
    """Deterministic, so a redelivered session-init finds the flow it already created."""
    return hashlib.sha256(f"{sender}|{session_id}".encode()).hexdigest()[:32]


class _Running:
    """Bookkeeping for one live fiber."""

    def __init__(self, fiber: Fiber, result: asyncio.Future[Any]) -> None:
        self.fiber = fiber
        self.result = result
        self.started = time.monotonic()
        self.task: asyncio.Task[None] | None = None
        self.retries = 0
        self.parked = False


class FlowEngine:
    def __init__(
        self,
        *,
        db: Database,
        transport: Transport,
        services: ServiceHub,
        responders: dict[str, type[FlowLogic[Any]]] | None = None,
        hospital: Hospital | None = None,
        crash_hook: CrashHook | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or NodeMetrics()
        self.metrics.flows_in_flight.set_function(lambda: self.in_flight)
        self.metrics.flows_hospitalised.set_function(
            lambda: sum(1 for running in self._running.values() if running.parked)
        )
        self.transport = transport
        self.services = services
        self.responders = dict(responders or {})
        """Per-node responders that take precedence over the registered ones."""
        self.hospital = hospital or Hospital()
        self.crash_hook = crash_hook
        self.on_crash: Callable[[], object] | None = None
        """Called when a crash hook stops a flow (MockNetwork then stops the whole node)."""
        self._running: dict[str, _Running] = {}
        self._early: dict[tuple[str, str], list[tuple[SessionMessage, InboundMessage]]] = (
            defaultdict(list)
        )
        """By (flow id, session id): a responder's flow id is derived from its sender, so one
        peer's early messages never reach a session with another."""
        self._early_count = 0
        self._early_by_sender: Counter[X500Name] = Counter()
        self._acks: set[asyncio.Task[None]] = set()
        self._finished_uncheckpointed: OrderedDict[str, None] = OrderedDict()
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Restore unfinished flows from their journals, then start taking messages."""
        records = await self.db.read(
            lambda s: storage.list_flows(s, [FlowStatus.RUNNABLE], limit=1_000_000)
        )
        for record in records:
            await self._restore(record)
        self._started = True
        await self.transport.start(self._on_message)

    async def stop(self) -> None:
        """Stop every fiber where it stands; their journals let the next start resume them."""
        self._started = False
        await self.transport.stop()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for running in self._running.values():
            if not running.result.done():
                running.result.cancel()
        self._running.clear()

    @property
    def in_flight(self) -> int:
        """Flows running now; parked flows wait for an operator and do not count."""
        return sum(1 for running in self._running.values() if not running.parked)

    # -- starting flows -------------------------------------------------------------------

    async def start_flow(
        self, flow: FlowLogic[Any], *, flow_id: str | None = None
    ) -> FlowHandle[Any]:
        """Persist the flow, then run it. Its arguments must survive a JSON round trip."""
        cls = type(flow)
        if cls.flow_name is None:
            raise FlowRegistrationError(
                f"{cls.__qualname__} is not registered; decorate it with @flow(name)"
            )
        arguments = flow.model_dump_json()
        try:
            cls.model_validate_json(arguments)
        except ValidationError as exc:
            raise FlowRegistrationError(
                f"{cls.flow_name}'s arguments do not survive serialisation, so it could not be "
                f"resumed after a restart: {exc}"
            ) from exc
        flow_id = flow_id or uuid.uuid4().hex
        await self.db.write(
            lambda s: storage.insert_flow(
                s, flow_id=flow_id, flow_name=cls.flow_name or "", arguments=arguments
            )
        )
        running = self._launch(
            flow_id, [], lambda fiber: self._bind(cls.model_validate_json(arguments), fiber)
        )
        return FlowHandle(flow_id, running.result, running.fiber.steps)

    def _bind(self, flow: FlowLogic[Any], fiber: Fiber) -> FlowLogic[Any]:
        flow._fiber = fiber
        return flow

    def _launch(
        self,
        flow_id: str,
        journal: list[storage.JournalEntry],
        build: Any,
        unwritten_row: Callable[[Session], None] | None = None,
    ) -> _Running:
        fiber = Fiber(self, flow_id, journal, build, unwritten_row=unwritten_row)
        running = _Running(fiber, asyncio.get_running_loop().create_future())
        running.result.add_done_callback(_retrieve)
        self._running[flow_id] = running
        self.metrics.flows_started.labels(_name(fiber)).inc()
        running.task = asyncio.get_running_loop().create_task(self._run(running), name=flow_id)
        return running

    async def _restore(self, record: storage.FlowRecord) -> None:
        try:
            cls = flow_class(record.flow_name)
        except FlowRegistrationError as exc:
            # Its code is not installed: leave it as it stands, to resume at the first start
            # with its CorDapp back, rather than refuse to start the whole node.
            log.error("flow %s is not resumed: %s", record.flow_id, exc)
            return
        journal = await self.db.read(lambda s: storage.load_journal(s, record.flow_id))
        if record.peer is not None and record.session_id is not None:
            peer = self.services.identity.require_party(X500Name.parse(record.peer))
            state = SessionState(session_id=record.session_id, counterparty=peer, initiator=False)

            def build(fiber: Fiber) -> FlowLogic[Any]:
                return self._bind(cls(session=fiber.attach_responder_session(state)), fiber)

            self._launch(record.flow_id, journal, build)
        else:
            arguments = record.arguments or "{}"
            self._launch(
                record.flow_id,
                journal,
                lambda fiber: self._bind(cls.model_validate_json(arguments), fiber),
            )

    # -- running and the hospital ---------------------------------------------------------

    async def _run(self, running: _Running) -> None:
        fiber = running.fiber
        while True:
            try:
                timeout = type(fiber.flow).timeout_seconds
                try:
                    async with asyncio.timeout(timeout):
                        result = await fiber.flow.call()
                except TimeoutError as exc:
                    raise FlowTimeoutError(
                        f"{type(fiber.flow).__name__} did not finish within {timeout} s"
                    ) from exc
                await self._complete(running, result)
                return
            except NodeCrashedError:
                self._crashed()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                diagnosis = self.hospital.diagnose(error, running.retries)
                if diagnosis.treatment is Treatment.RETRY:
                    running.retries += 1
                    log.warning(
                        "flow %s: retrying in %.2fs: %s", fiber.flow_id, diagnosis.delay, error
                    )
                    await asyncio.sleep(diagnosis.delay)
                    fiber.reset()
                    continue
                if diagnosis.treatment is Treatment.PARK:
                    await self._park(running, error, diagnosis.reason)
                    return
                try:
                    await self._fail(running, error, FlowStatus.FAILED)
                except NodeCrashedError:
                    self._crashed()
                return

    def _crashed(self) -> None:
        if self.on_crash is not None:
            self.on_crash()

    async def _complete(self, running: _Running, result: Any) -> None:
        fiber = running.fiber
        try:
            encoded = encode(result)
        except Exception as exc:
            await self._fail(
                running, TypeError(f"flow result cannot be stored: {exc}"), FlowStatus.FAILED
            )
            return
        await fiber.end_sessions(SessionMessageKind.END, None)
        await self._finish(running, FlowStatus.COMPLETED, result=encoded)
        if not running.result.done():
            running.result.set_result(result)

    async def _fail(self, running: _Running, error: BaseException, status: FlowStatus) -> None:
        fiber = running.fiber
        await fiber.end_sessions(SessionMessageKind.ERROR, _shared(error))
        await self._finish(running, status, error=error)
        if not running.result.done():
            running.result.set_exception(error)

    async def _finish(
        self,
        running: _Running,
        status: FlowStatus,
        *,
        result: bytes | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Record the outcome and release soft locks in one commit; then acknowledge the
        messages it never received (a redelivery finds the flow finished) and retire it."""
        fiber = running.fiber
        leftovers = fiber.unconsumed()
        if not fiber.checkpointed:
            await fiber.commit(None)  # writes nothing; the crash hook sees the flow's end
            self._remember_finished(fiber.flow_id)
            for message in [*fiber.unacknowledged(), *leftovers]:
                await message.ack()
            for message in self._forget_early(fiber.flow_id):
                await message.ack()
            self._retire(running, succeeded=error is None)
            return

        def finish(session: Any) -> None:
            storage.set_status(
                session,
                fiber.flow_id,
                status,
                result=result,
                error_type=type(error).__name__ if error is not None else None,
                error_message=str(error) if error is not None else None,
            )
            self.services.vault.soft_lock_release(session, fiber.flow_id)

        await fiber.commit(None, finish)
        for message in [*leftovers, *self._forget_early(fiber.flow_id)]:
            await message.ack()
        self._retire(running, succeeded=error is None)

    def _remember_finished(self, flow_id: str) -> None:
        self._finished_uncheckpointed[flow_id] = None
        while len(self._finished_uncheckpointed) > FINISHED_UNCHECKPOINTED:
            self._finished_uncheckpointed.popitem(last=False)

    async def _park(self, running: _Running, error: BaseException, reason: str) -> None:
        running.parked = True
        log.error("flow %s parked for an operator: %s", running.fiber.flow_id, reason)
        try:
            await running.fiber.release_held_back(commit=False)
        except Exception as exc:  # parking must not fail; a replay sends them again
            log.warning("flow %s: could not send what it held back: %s", running.fiber.flow_id, exc)
        await running.fiber.write(
            lambda s: storage.set_status(
                s,
                running.fiber.flow_id,
                FlowStatus.HOSPITALISED,
                error_type=type(error).__name__,
                error_message=reason,
            )
        )

    def _retire(self, running: _Running, succeeded: bool) -> None:
        self._running.pop(running.fiber.flow_id, None)
        name = _name(running.fiber)
        (self.metrics.flows_finished if succeeded else self.metrics.flows_failed).labels(name).inc()
        self.metrics.flow_duration.labels(name).observe(time.monotonic() - running.started)
        for listener in running.fiber.step_listeners:
            listener.put_nowait(None)

    # -- operator actions -----------------------------------------------------------------

    async def kill_flow(self, flow_id: str) -> None:
        running = self._running.get(flow_id)
        if running is None:
            record = await self.flow_status(flow_id)
            if record.status.finished:
                return
            raise FlowNotFoundError(f"flow {flow_id} is not running on this node")
        if running.task is not None and not running.task.done():
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.task
        await self._fail(
            running, FlowKilledError(f"flow {flow_id} was killed by an operator"), FlowStatus.KILLED
        )

    async def retry_flow(self, flow_id: str) -> None:
        """Run a parked flow again from its journal."""
        running = self._running.get(flow_id)
        if running is None or not running.parked:
            raise FlowNotFoundError(f"flow {flow_id} is not parked in the hospital")
        running.parked = False
        running.retries = 0
        await self.db.write(lambda s: storage.set_status(s, flow_id, FlowStatus.RUNNABLE))
        running.fiber.reset()
        running.task = asyncio.get_running_loop().create_task(self._run(running), name=flow_id)

    async def flow_status(self, flow_id: str) -> storage.FlowRecord:
        record = await self.db.read(lambda s: storage.get_flow(s, flow_id))
        if record is None:
            raise FlowNotFoundError(f"no flow {flow_id} on this node")
        return record

    async def list_flows(
        self, statuses: Iterable[FlowStatus] | None = None
    ) -> list[storage.FlowRecord]:
        chosen = list(statuses) if statuses is not None else None
        return await self.db.read(lambda s: storage.list_flows(s, chosen))

    async def result_of(self, flow_id: str) -> Any:
        """Wait for a flow's result, whether it is running now or finished before."""
        running = self._running.get(flow_id)
        if running is not None:
            return await asyncio.shield(running.result)
        record = await self.flow_status(flow_id)
        if record.status is FlowStatus.COMPLETED:
            return decode(record.result or b"")
        if record.status is FlowStatus.HOSPITALISED:
            raise FlowHospitalisedError(f"flow {flow_id}: {record.error_message}")
        raise FlowException(
            f"flow {flow_id} {record.status.value}: {record.error_type}: {record.error_message}"
        )

    async def track_progress(self, flow_id: str) -> AsyncIterator[str]:
        """Steps so far, then each new one until the flow finishes."""
        running = self._running.get(flow_id)
        if running is None:
            return
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        for step in running.fiber.steps:
            queue.put_nowait(step)
        running.fiber.step_listeners.append(queue)
        try:
            while (step := await queue.get()) is not None:
                yield step
        finally:
            with contextlib.suppress(ValueError):
                running.fiber.step_listeners.remove(queue)

    # -- messaging ------------------------------------------------------------------------

    async def publish(self, recipient: X500Name, message: SessionMessage) -> None:
        stamped = message.model_copy(update={"sent_at_us": time.time_ns() // 1000})
        began = time.monotonic()
        await self.transport.send(OutboundMessage(recipient, message.message_id, encode(stamped)))
        self.metrics.messages_sent.inc()
        self.metrics.send_latency.observe(time.monotonic() - began)

    async def _on_message(self, inbound: InboundMessage) -> None:
        try:
            message = decode(inbound.payload, SessionMessage)
        except DecodingError as exc:
            log.warning(
                "dropping undecodable message %s from %s: %s",
                inbound.message_id,
                inbound.sender,
                exc,
            )
            self.metrics.messages_dropped.labels("undecodable").inc()
            await inbound.ack()
            return
        self.metrics.messages_received.inc()
        if message.sent_at_us is not None:
            self.metrics.receive_latency.observe(
                max(0.0, time.time_ns() // 1000 - message.sent_at_us) / 1e6
            )
        if message.from_initiator:
            flow_id = responder_flow_id(inbound.sender, message.session_id)
        else:
            flow_id = message.session_id.rpartition(".")[0]
        running = self._running.get(flow_id)
        if running is not None and running.fiber.finishing:
            await inbound.ack()
            return
        if running is not None:
            state = running.fiber.sessions.get(message.session_id)
            if state is not None:
                data = message.first_data() if message.kind is SessionMessageKind.INIT else message
                if data is None or not self._deliver(state, data, inbound):
                    await inbound.ack()
                return
        if message.kind is SessionMessageKind.INIT and running is None:
            await self._create_responder(flow_id, message, inbound)
            return
        await self._hold_or_drop(flow_id, message, inbound)

    async def _hold_or_drop(
        self, flow_id: str, message: SessionMessage, inbound: InboundMessage
    ) -> None:
        """A message for a session not (yet) open here: early, or for a finished flow."""
        if flow_id in self._finished_uncheckpointed:
            await inbound.ack()
            return
        if flow_id not in self._running:
            record = await self.db.read(lambda s: storage.get_flow(s, flow_id))
            if record is not None and record.status.finished:
                await inbound.ack()
                return
        sender = inbound.sender
        if (
            self._early_count >= MAX_EARLY_MESSAGES
            or self._early_by_sender[sender] >= MAX_EARLY_MESSAGES_PER_SENDER
        ):
            log.warning("too many early messages; dropping %s for redelivery", message.message_id)
            return
        key = (flow_id, message.session_id)
        self._early[key].append((message, inbound))
        self._early_count += 1
        self._early_by_sender[sender] += 1
        asyncio.get_running_loop().call_later(
            EARLY_MESSAGE_TTL, self._expire_early, key, message, inbound
        )

    def _expire_early(
        self, key: tuple[str, str], message: SessionMessage, inbound: InboundMessage
    ) -> None:
        """Acknowledge and drop an early message whose session never opened in time."""
        held = self._early.get(key)
        if held is None or not any(entry[1] is inbound for entry in held):
            return
        held[:] = [entry for entry in held if entry[1] is not inbound]
        if not held:
            del self._early[key]
        self._early_count -= 1
        self._uncount_early(inbound.sender)
        log.info("dropping %s: its session never opened here", message.message_id)
        self.metrics.messages_dropped.labels("orphaned").inc()
        task = asyncio.get_running_loop().create_task(inbound.ack())
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    def _forget_early(self, flow_id: str) -> list[InboundMessage]:
        """Messages held for sessions a finished flow never opened: nothing will read them."""
        forgotten = []
        for key in [key for key in self._early if key[0] == flow_id]:
            for _, inbound in self._early.pop(key):
                self._early_count -= 1
                self._uncount_early(inbound.sender)
                forgotten.append(inbound)
        return forgotten

    def _uncount_early(self, sender: X500Name) -> None:
        self._early_by_sender[sender] -= 1
        if self._early_by_sender[sender] <= 0:
            del self._early_by_sender[sender]

    def _deliver(
        self, state: SessionState, message: SessionMessage, inbound: InboundMessage
    ) -> bool:
        """Hand a message to its session if the session's counterparty sent it; False when it
        is to be acknowledged and dropped (a duplicate, or from anyone else)."""
        if inbound.sender != state.counterparty.name:
            log.warning(
                "dropping message %s for session %s: sent by %s, not by the counterparty %s",
                message.message_id,
                state.session_id,
                inbound.sender,
                state.counterparty.name,
            )
            self.metrics.messages_dropped.labels("foreign_sender").inc()
            return False
        return state.accept(message, inbound)

    def deliver_early(self, flow_id: str, state: SessionState) -> list[InboundMessage]:
        """Hand messages that arrived before their session existed to it; returns those to
        acknowledge and drop (duplicates, and any not sent by the session's counterparty)."""
        dropped = []
        for message, inbound in self._early.pop((flow_id, state.session_id), []):
            self._early_count -= 1
            self._uncount_early(inbound.sender)
            if not self._deliver(state, message, inbound):
                dropped.append(inbound)
        return dropped

    async def _create_responder(
        self, flow_id: str, message: SessionMessage, inbound: InboundMessage
    ) -> None:
        sender = inbound.sender
        protocol = message.protocol or ""
        responder = self.responders.get(protocol) or responder_for(protocol)
        peer = self.services.identity.party_from_name(sender)
        if responder is None or peer is None:
            reason = (
                f"{self.services.our_identity.name} has no responder for {message.protocol!r}"
                if responder is None
                else f"{self.services.our_identity.name} does not know the sender {sender}"
            )
            log.warning("refusing session %s: %s", message.session_id, reason)
            await self.transport.send(
                OutboundMessage(
                    sender,
                    f"{message.session_id}/r/refused",
                    encode(
                        SessionMessage(
                            kind=SessionMessageKind.ERROR,
                            session_id=message.session_id,
                            from_initiator=False,
                            seq=0,
                            error_type="SessionRefused",
                            error_message=reason,
                        )
                    ),
                )
            )
            await inbound.ack()
            return
        if not responder.checkpointed:
            await self._launch_uncheckpointed(flow_id, responder, message, peer, inbound)
            return
        existing = await self.db.read(lambda s: storage.get_flow(s, flow_id))
        if flow_id in self._running or (existing is not None and existing.status.finished):
            await inbound.ack()  # a duplicate init, for a responder running or finished
            return
        unwritten_row = None
        if existing is None:
            unwritten_row = functools.partial(
                storage.insert_flow,
                flow_id=flow_id,
                flow_name=responder.flow_name or "",
                arguments=None,
                peer=str(sender),
                session_id=message.session_id,
            )
        data = message.first_data()
        if data is None:
            # Nothing holds this delivery back until a commit, so the row cannot wait either.
            if unwritten_row is not None:
                await self.db.write(unwritten_row)
                unwritten_row = None
            await inbound.ack()
        state = SessionState(
            session_id=message.session_id,
            counterparty=peer,
            initiator=False,
            protocol=message.protocol,
            protocol_version=message.protocol_version or 1,
        )
        journal = (
            []
            if existing is None
            else await self.db.read(lambda s: storage.load_journal(s, flow_id))
        )

        def build(fiber: Fiber) -> FlowLogic[Any]:
            return self._bind(responder(session=fiber.attach_responder_session(state)), fiber)

        self._launch(flow_id, journal, build, unwritten_row)
        await self._deliver_first_data(state, data, inbound)
        for dropped in self.deliver_early(flow_id, state):
            await dropped.ack()

    async def _deliver_first_data(
        self, state: SessionState, data: SessionMessage | None, inbound: InboundMessage
    ) -> None:
        """Hand the payload a session-init carried to the new session; the delivery is
        acknowledged once the responder has journaled its receive (or at its end), so a crash
        before then has the broker deliver the init, and its payload, again."""
        if data is not None and not self._deliver(state, data, inbound):
            await inbound.ack()

    async def _launch_uncheckpointed(
        self,
        flow_id: str,
        responder: type[FlowLogic[Any]],
        message: SessionMessage,
        peer: Party,
        inbound: InboundMessage,
    ) -> None:
        """Run a responder without a flow row or journal; a session-init for one that already
        finished is a duplicate, acknowledged and dropped."""
        if flow_id in self._finished_uncheckpointed:
            await inbound.ack()
            return
        data = message.first_data()
        if data is None:
            await inbound.ack()
        state = SessionState(
            session_id=message.session_id,
            counterparty=peer,
            initiator=False,
            protocol=message.protocol,
            protocol_version=message.protocol_version or 1,
        )

        def build(fiber: Fiber) -> FlowLogic[Any]:
            return self._bind(responder(session=fiber.attach_responder_session(state)), fiber)

        self._launch(flow_id, [], build)
        await self._deliver_first_data(state, data, inbound)
        for dropped in self.deliver_early(flow_id, state):
            await dropped.ack()
