"""Soft locks: a flow reserves the states it means to spend so no other flow selects them.

A lock is a lock id (usually the flow id) written on the state row inside a unit of work, so
it commits, or vanishes, together with the rest of that unit. Reserving is a conditional
UPDATE whose row count is checked, and selection on PostgreSQL reads with
`FOR UPDATE SKIP LOCKED`, so concurrent writers never hand out the same state twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from dlt.ledger import StateAndRef, StateRef
from dlt.vault.errors import InsufficientStatesError, StatesNotAvailableError, VaultQueryError
from dlt.vault.query import QueryCriteria, SoftLocking, Sort, VaultQueryCriteria
from dlt.vault.query_sql import build_select, ref_in, state_and_ref
from dlt.vault.schema import LOCK_ID_LENGTH, StateStatus, chunks, states

Enough = Callable[[list[StateAndRef]], bool]
"""Coin-selection predicate: called with the states picked so far, after each pick."""

_FETCH_BATCH = 128


def _check_lock_id(lock_id: str) -> None:
    if not isinstance(lock_id, str) or not 1 <= len(lock_id) <= LOCK_ID_LENGTH:
        raise VaultQueryError(f"a lock id is a string of 1 to {LOCK_ID_LENGTH} characters")


def _lockable(lock_id: str) -> ColumnElement[bool]:
    return and_(
        states.c.status == StateStatus.UNCONSUMED,
        or_(states.c.lock_id.is_(None), states.c.lock_id == lock_id),
    )


def _why_unavailable(
    session: Session, lock_id: str, refs: list[StateRef]
) -> StatesNotAvailableError:
    found: dict[StateRef, tuple[StateStatus, str | None]] = {}
    for chunk in chunks(refs):
        query = select(
            states.c.txhash, states.c.output_index, states.c.status, states.c.lock_id
        ).where(ref_in(chunk))
        for row in session.execute(query):
            ref = StateRef(txhash=row.txhash, index=row.output_index)
            found[ref] = (StateStatus(row.status), row.lock_id)
    return StatesNotAvailableError(
        lock_id,
        unknown=[ref for ref in refs if ref not in found],
        consumed=[ref for ref, (status, _) in found.items() if status is StateStatus.CONSUMED],
        locked_by={
            ref: holder
            for ref, (status, holder) in found.items()
            if status is StateStatus.UNCONSUMED and holder not in (None, lock_id)
        },
    )


def soft_lock_reserve(
    session: Session, lock_id: str, refs: Iterable[StateRef], *, now: datetime
) -> None:
    """Lock every one of `refs` for `lock_id`, or none of them.

    Raises `StatesNotAvailableError` if any is unknown, consumed, or locked by another id.
    Re-reserving states `lock_id` already holds is fine.
    """
    _check_lock_id(lock_id)
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return
    with session.begin_nested():
        locked = 0
        for chunk in chunks(wanted):
            result = session.execute(
                update(states)
                .where(ref_in(chunk), _lockable(lock_id))
                .values(lock_id=lock_id, lock_time=now)
            )
            locked += cast(CursorResult[Any], result).rowcount
        if locked != len(wanted):
            raise _why_unavailable(session, lock_id, wanted)


def soft_lock_release(
    session: Session, lock_id: str, refs: Iterable[StateRef] | None = None
) -> int:
    """Release `lock_id`'s locks on `refs` (all of its locks if None); returns how many."""
    _check_lock_id(lock_id)
    release = update(states).values(lock_id=None, lock_time=None)
    if refs is None:
        result = session.execute(release.where(states.c.lock_id == lock_id))
        return cast(CursorResult[Any], result).rowcount
    released = 0
    for chunk in chunks(list(dict.fromkeys(refs))):
        result = session.execute(release.where(states.c.lock_id == lock_id, ref_in(chunk)))
        released += cast(CursorResult[Any], result).rowcount
    return released


def _locked_elsewhere(session: Session, lock_id: str, criteria: QueryCriteria, dialect: str) -> int:
    others = criteria & VaultQueryCriteria(soft_locking=SoftLocking.locked_only())
    _, count = build_select(others, None, dialect)
    total: int = session.execute(count.where(states.c.lock_id != lock_id)).scalar_one()
    return total


def select_and_lock(
    session: Session,
    lock_id: str,
    criteria: QueryCriteria,
    *,
    now: datetime,
    sort: Sort | None = None,
    limit: int | None = None,
    enough: Enough | None = None,
) -> list[StateAndRef]:
    """Pick unconsumed states matching `criteria`, in `sort` order, and lock them for `lock_id`.

    Picks until `enough(picked)` is true, or `limit` states when there is no `enough`; with
    both, at most `limit` states may be picked. States already locked by `lock_id` count as
    available (a retried flow gets its own states back). Raises `InsufficientStatesError`,
    locking nothing, when the request cannot be met.
    """
    _check_lock_id(lock_id)
    if limit is None and enough is None:
        raise VaultQueryError("select_and_lock needs a limit, an enough predicate, or both")
    if limit is not None and limit < 1:
        raise VaultQueryError(f"limit must be at least 1, got {limit}")
    dialect = session.get_bind().dialect.name
    available = criteria & VaultQueryCriteria(soft_locking=SoftLocking.unlocked_or(lock_id))
    query, _ = build_select(available, sort, dialect)
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=states)
    if limit is not None:
        query = query.limit(limit)

    def satisfied(picked: list[StateAndRef]) -> bool:
        return enough(picked) if enough is not None else len(picked) == limit

    picked: list[StateAndRef] = []
    if enough is None or not enough(picked):
        # Stream with a growing buffer (1, 5, 25, ...): on PostgreSQL rows are locked as they
        # are fetched, so fetching far ahead would hide states other flows could have used.
        streamed = query.execution_options(stream_results=True, max_row_buffer=_FETCH_BATCH)
        result = session.execute(streamed)
        try:
            for row in result:
                picked.append(state_and_ref(row))
                if satisfied(picked):
                    break
        finally:
            result.close()
    if not satisfied(picked):
        if limit is not None and len(picked) == limit:
            reason = f"the {limit} states allowed by the limit are not enough"
        else:
            reason = f"only {len(picked)} unlocked, unconsumed states match"
        raise InsufficientStatesError(
            lock_id, len(picked), reason, _locked_elsewhere(session, lock_id, criteria, dialect)
        )
    soft_lock_reserve(session, lock_id, [sar.ref for sar in picked], now=now)
    return picked
