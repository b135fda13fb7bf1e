"""Soft locks: a flow reserves the states it means to spend so no other flow selects them.

A lock is a lock id (usually the flow id) written on the state row inside a unit of work, so
it commits, or vanishes, together with the rest of that unit. Reserving is a conditional
UPDATE whose row count is checked, and selection on PostgreSQL reads with
`FOR UPDATE SKIP LOCKED`, so concurrent writers never hand out the same state twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from dlt.ledger import StateAndRef, StateRef
from dlt.vault.errors import InsufficientStatesError, StatesNotAvailableError, VaultQueryError
from dlt.vault.query import QueryCriteria, SoftLocking, Sort, VaultQueryCriteria
from dlt.vault.query_sql import REF_IN, build_select, ref_in, ref_params, state_and_ref
from dlt.vault.schema import IN_CHUNK, LOCK_ID_LENGTH, StateStatus, chunks, states

Enough = Callable[[list[StateAndRef]], bool]
"""Coin-selection predicate: called with the states picked so far, after each pick."""

_FETCH_BATCH = 128

# Built once and reused with parameters: no per-call construction or cache-key generation.
_HOLDER = bindparam("holder")
_LOCKABLE = and_(
    states.c.status == StateStatus.UNCONSUMED,
    or_(states.c.lock_id.is_(None), states.c.lock_id == _HOLDER),
)
_RESERVE = (
    update(states).where(REF_IN, _LOCKABLE).values(lock_id=_HOLDER, lock_time=bindparam("now"))
)
_ALL_LOCKABLE = select(func.count()).select_from(states).where(
    REF_IN, _LOCKABLE
).scalar_subquery() == bindparam("wanted")
_RESERVE_ALL_OR_NONE = _RESERVE.where(_ALL_LOCKABLE)
"""One statement that locks every ref or none: on SQLite, where a statement runs alone and
the rows it locks stay lockable, this needs no savepoint. PostgreSQL keeps the savepoint, as
a concurrent writer may lock a row between the count and the update."""
_RELEASE_ALL = (
    update(states).where(states.c.lock_id == _HOLDER).values(lock_id=None, lock_time=None)
)
_RELEASE = _RELEASE_ALL.where(REF_IN)


def _check_lock_id(lock_id: str) -> None:
    if not isinstance(lock_id, str) or not 1 <= len(lock_id) <= LOCK_ID_LENGTH:
        raise VaultQueryError(f"a lock id is a string of 1 to {LOCK_ID_LENGTH} characters")


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
    if len(wanted) <= IN_CHUNK and session.get_bind().dialect.name == "sqlite":
        params = {**ref_params(wanted), "holder": lock_id, "now": now, "wanted": len(wanted)}
        result = session.execute(_RESERVE_ALL_OR_NONE, params)
        if cast(CursorResult[Any], result).rowcount != len(wanted):
            raise _why_unavailable(session, lock_id, wanted)
        return
    with session.begin_nested():
        locked = 0
        for chunk in chunks(wanted):
            params = {**ref_params(chunk), "holder": lock_id, "now": now}
            locked += cast(CursorResult[Any], session.execute(_RESERVE, params)).rowcount
        if locked != len(wanted):
            raise _why_unavailable(session, lock_id, wanted)


def soft_lock_release(
    session: Session, lock_id: str, refs: Iterable[StateRef] | None = None
) -> int:
    """Release `lock_id`'s locks on `refs` (all of its locks if None); returns how many."""
    _check_lock_id(lock_id)
    if refs is None:
        result = session.execute(_RELEASE_ALL, {"holder": lock_id})
        return cast(CursorResult[Any], result).rowcount
    released = 0
    for chunk in chunks(list(dict.fromkeys(refs))):
        result = session.execute(_RELEASE, {"holder": lock_id, **ref_params(chunk)})
        released += cast(CursorResult[Any], result).rowcount
    return released


def _locked_elsewhere(session: Session, lock_id: str, criteria: QueryCriteria, dialect: str) -> int:
    others = criteria & VaultQueryCriteria(soft_locking=SoftLocking.locked_only())
    _, count = build_select(others, None, dialect)
    total: int = session.execute(count.where(states.c.lock_id != lock_id)).scalar_one()
    return total


def _selection(
    criteria: QueryCriteria, sort: Sort | None, dialect: str, limit: int | None
) -> Select[Any]:
    """The statement picking `criteria`'s states that are unlocked or locked by `:holder`.

    The same as selecting `criteria & VaultQueryCriteria(soft_locking=unlocked_or(holder))`,
    with the holder a parameter, so one statement built once serves every flow that selects
    alike: building it took about half of coin selection's CPU on a node's one writer thread.
    """
    available = criteria & VaultQueryCriteria(soft_locking=SoftLocking.ANY)
    query, _ = build_select(available, sort, dialect)
    query = query.where(or_(states.c.lock_id.is_(None), states.c.lock_id == _HOLDER))
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=states)
    if limit is not None:
        query = query.limit(limit)
    # Stream with a growing buffer (1, 5, 25, ...): on PostgreSQL rows are locked as they
    # are fetched, so fetching far ahead would hide states other flows could have used.
    return query.execution_options(stream_results=True, max_row_buffer=_FETCH_BATCH)


_cached_selection = lru_cache(maxsize=256)(_selection)


def _selection_for(
    criteria: QueryCriteria, sort: Sort | None, dialect: str, limit: int | None
) -> Select[Any]:
    """`_selection`, built once per distinct request (criteria are frozen values)."""
    try:
        return _cached_selection(criteria, sort, dialect, limit)
    except TypeError:  # criteria holding something unhashable: built for this call only
        return _selection(criteria, sort, dialect, limit)


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

    def satisfied(picked: list[StateAndRef]) -> bool:
        return enough(picked) if enough is not None else len(picked) == limit

    picked: list[StateAndRef] = []
    if enough is None or not enough(picked):
        query = _selection_for(criteria, sort, dialect, limit)
        result = session.execute(query, {"holder": lock_id})
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
