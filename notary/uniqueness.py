"""The uniqueness store: which states are consumed, and by which transaction.

This is the one place that decides double spends, so every commit is atomic and serialised
against every other writer of the same store, in this process or another. SQLite serialises
writers by its write lock (the database's writer connection begins IMMEDIATE); PostgreSQL by a
transaction-scoped advisory lock taken before anything is read. The lock is what makes the
reference check safe: two transactions that each reference what the other spends cannot both
commit. The primary key on consumed states stays the last line of defence: should a row be
inserted anyway, the unique violation is reported as a conflict, never as a success.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    String,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dlt.crypto import SecureHash
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    StateConsumptionDetails,
    TimeWindowInvalid,
)
from dlt.identity import Party
from dlt.ledger import MalformedTransactionError, StateRef, TimeWindow, check_distinct_states
from dlt.vault.database import Database, metadata
from dlt.vault.schema import key_in

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware; injected so tests and replays control it."""

MAX_OUTPUT_INDEX = 2**63 - 1
"""The largest output index the store can hold (a signed 64-bit column)."""

_PG_LOCK_KEY = 0x6E6F74617279  # "notary": one advisory lock serialises notarisation commits
_REFS_PER_QUERY = 400  # keeps (txhash, index) IN (...) well under every driver's bind limit

consumed_states = Table(
    "notary_consumed_states",
    metadata,
    Column("txhash", String(64), primary_key=True),
    Column("output_index", BigInteger, primary_key=True, autoincrement=False),
    Column("consuming_tx_id", String(64), nullable=False, index=True),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Column("requesting_party", String(1024), nullable=False),
)

committed_transactions = Table(
    "notary_committed_transactions",
    metadata,
    Column("tx_id", String(64), primary_key=True),
    Column("committed_at", DateTime(timezone=True), nullable=False),
)


def utc_now() -> datetime:
    """The system clock in UTC: the default `Clock`."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class UniquenessRequest:
    """One transaction's claim on its inputs, checked against its references and time window."""

    tx_id: SecureHash
    inputs: tuple[StateRef, ...]
    references: tuple[StateRef, ...]
    time_window: TimeWindow | None
    requester: Party

    def __post_init__(self) -> None:
        for ref in (*self.inputs, *self.references):
            if ref.index > MAX_OUTPUT_INDEX:
                raise ValueError(f"state {ref} has an output index no transaction can have")
        try:
            check_distinct_states(self.inputs, self.references)
        except MalformedTransactionError as exc:
            # Listed twice, a state would fail its whole batch's writes, honest requests too.
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class Committed:
    """The transaction's inputs are consumed by it; `already_committed` on a repeat request."""

    tx_id: SecureHash
    committed_at: datetime
    already_committed: bool


UniquenessResult = Committed | Conflict | TimeWindowInvalid


class UniquenessProvider(Protocol):
    """Commits transactions' inputs, each atomically, and answers which states are consumed."""

    async def commit_many(
        self, requests: Sequence[UniquenessRequest], clock: Clock = utc_now
    ) -> list[UniquenessResult]:
        """Commit each request in order (the first of two conflicting ones wins)."""
        ...

    async def consuming_transactions(self, refs: Iterable[StateRef]) -> dict[StateRef, SecureHash]:
        """The transaction that consumed each of `refs`, for those that are consumed."""
        ...


class SqlUniquenessProvider:
    """A uniqueness store in the notary's SQLite or PostgreSQL database."""

    def __init__(self, db: Database) -> None:
        """Use `db`, creating the notary tables there if they do not exist yet."""
        self._db = db
        metadata.create_all(db.engine, tables=[consumed_states, committed_transactions])

    def commit(
        self,
        session: Session,
        tx_id: SecureHash,
        inputs: Sequence[StateRef],
        references: Sequence[StateRef],
        time_window: TimeWindow | None,
        now: datetime,
        requester: Party,
    ) -> UniquenessResult:
        """Commit one transaction inside the caller's unit of work; atomic on its own.

        A transaction committed before is re-confirmed whatever the time now, so a client that
        lost the reply can still collect its signature after the window has closed.
        """
        request = UniquenessRequest(tx_id, tuple(inputs), tuple(references), time_window, requester)
        [result] = self._commit_batch(session, [request], lambda: now)
        return result

    async def commit_many(
        self, requests: Sequence[UniquenessRequest], clock: Clock = utc_now
    ) -> list[UniquenessResult]:
        """Commit `requests` in one database transaction; each request's writes are atomic.

        The clock is read as each request is checked, on the writer thread. A database failure
        fails the whole batch, and then nothing in it is committed.
        """
        if not requests:
            return []
        batch = list(requests)
        return await self._db.write(lambda session: self._commit_batch(session, batch, clock))

    async def consuming_transactions(self, refs: Iterable[StateRef]) -> dict[StateRef, SecureHash]:
        wanted = list(refs)
        return await self._db.read(lambda session: _consumers(session, wanted))

    def _commit_batch(
        self, session: Session, requests: list[UniquenessRequest], clock: Clock
    ) -> list[UniquenessResult]:
        """Decide every request of the batch from two reads, then write what it consumed in one
        statement per table: the statements per batch do not grow with its size.

        Requests are decided in order against what the store held and what earlier requests of
        the batch consumed, exactly as committing them one by one would. Should the writes hit
        a unique violation (a writer that bypassed the lock), they are undone and each request
        is committed as a batch of its own, which reports what that writer committed."""
        _serialise_writers(session)
        known = _committed_times(session, [request.tx_id for request in requests])
        consumers = _consumers(session, _all_refs(requests))
        results: list[UniquenessResult] = []
        new = _NewRows()
        for request in requests:
            now = _utc(clock())
            result = _decide(request, now, known, consumers)
            if isinstance(result, Committed) and not result.already_committed:
                known[request.tx_id] = now
                consumers.update(dict.fromkeys(request.inputs, request.tx_id))
                new.add(request, now)
            results.append(result)
        if not new.transactions:
            return results
        try:
            with session.begin_nested():
                new.write(session)
        except IntegrityError:
            if len(requests) == 1:
                return [self._after_unique_violation(session, requests[0])]
            return [self._commit_batch(session, [request], clock)[0] for request in requests]
        return results

    def _after_unique_violation(
        self, session: Session, request: UniquenessRequest
    ) -> UniquenessResult:
        """A writer that bypassed the lock got there first: report what it committed."""
        previous = _committed_times(session, [request.tx_id]).get(request.tx_id)
        if previous is not None:
            return Committed(request.tx_id, previous, already_committed=True)
        conflict = _conflict(session, request)
        if conflict is None:
            raise RuntimeError(
                f"transaction {request.tx_id} hit a unique violation but no conflicting "
                "state is visible; the notary tables may be corrupt"
            )
        return conflict


def _serialise_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("the notary's clock must return timezone-aware times (use UTC)")
    return now.astimezone(UTC)


def _committed_times(session: Session, tx_ids: Sequence[SecureHash]) -> dict[SecureHash, datetime]:
    """When each of `tx_ids` that the store holds was committed."""
    table = committed_transactions
    wanted = list(dict.fromkeys(str(tx_id) for tx_id in tx_ids))
    found: dict[SecureHash, datetime] = {}
    for start in range(0, len(wanted), _REFS_PER_QUERY):
        chunk = wanted[start : start + _REFS_PER_QUERY]
        rows = session.execute(
            select(table.c.tx_id, table.c.committed_at).where(table.c.tx_id.in_(chunk))
        )
        for tx_id, committed_at in rows:
            found[SecureHash.parse(tx_id)] = _aware(committed_at)
    return found


def _all_refs(requests: Sequence[UniquenessRequest]) -> list[StateRef]:
    """Every state the batch spends or references, each once."""
    refs: dict[StateRef, None] = {}
    for request in requests:
        refs.update(dict.fromkeys(request.inputs))
        refs.update(dict.fromkeys(request.references))
    return list(refs)


def _decide(
    request: UniquenessRequest,
    now: datetime,
    known: dict[SecureHash, datetime],
    consumers: dict[StateRef, SecureHash],
) -> UniquenessResult:
    """What committing `request` alone would answer, given the committed transactions and
    the consumers of its states (the store's, and those of earlier requests in the batch)."""
    previous = known.get(request.tx_id)
    if previous is not None:
        return Committed(request.tx_id, previous, already_committed=True)
    window = request.time_window
    if window is not None and not window.contains(now):
        return TimeWindowInvalid(current_time=now, window=window)
    kinds = _kinds(request)
    consumed = {ref: consumers[ref] for ref in kinds if ref in consumers}
    if consumed:
        return _conflict_of(request, kinds, consumed)
    return Committed(request.tx_id, now, already_committed=False)


class _NewRows:
    """The rows a batch's new commits add, written in one statement per table."""

    def __init__(self) -> None:
        self.states: list[dict[str, object]] = []
        self.transactions: list[dict[str, object]] = []

    def add(self, request: UniquenessRequest, now: datetime) -> None:
        tx_id, requester = str(request.tx_id), str(request.requester.name)
        self.states += (
            {
                "txhash": str(ref.txhash),
                "output_index": ref.index,
                "consuming_tx_id": tx_id,
                "committed_at": now,
                "requesting_party": requester,
            }
            for ref in request.inputs
        )
        self.transactions.append({"tx_id": tx_id, "committed_at": now})

    def write(self, session: Session) -> None:
        if self.states:
            session.execute(insert(consumed_states), self.states)
        session.execute(insert(committed_transactions), self.transactions)


def _consumers(session: Session, refs: Sequence[StateRef]) -> dict[StateRef, SecureHash]:
    found: dict[StateRef, SecureHash] = {}
    table = consumed_states
    for start in range(0, len(refs), _REFS_PER_QUERY):
        chunk = refs[start : start + _REFS_PER_QUERY]
        keys = [(str(ref.txhash), ref.index) for ref in chunk]
        rows = session.execute(
            select(table.c.txhash, table.c.output_index, table.c.consuming_tx_id).where(
                key_in(table.c.txhash, table.c.output_index, keys)
            )
        )
        for txhash, index, consumer in rows:
            ref = StateRef(txhash=SecureHash.parse(txhash), index=index)
            found[ref] = SecureHash.parse(consumer)
    return found


def _kinds(request: UniquenessRequest) -> dict[StateRef, ConsumedStateKind]:
    """How the request uses each of its states; one it both spends and references counts as
    referenced."""
    kinds = dict.fromkeys(request.inputs, ConsumedStateKind.INPUT)
    kinds.update(dict.fromkeys(request.references, ConsumedStateKind.REFERENCE))
    return kinds


def _conflict(session: Session, request: UniquenessRequest) -> Conflict | None:
    kinds = _kinds(request)
    consumed = _consumers(session, list(kinds))
    return _conflict_of(request, kinds, consumed) if consumed else None


def _conflict_of(
    request: UniquenessRequest,
    kinds: dict[StateRef, ConsumedStateKind],
    consumed: dict[StateRef, SecureHash],
) -> Conflict:
    return Conflict(
        tx_id=request.tx_id,
        consumed={
            str(ref): StateConsumptionDetails(consuming_tx_id=consumer, kind=kinds[ref])
            for ref, consumer in consumed.items()
        },
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
