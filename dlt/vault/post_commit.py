"""Run code only once a unit of work's changes are durably committed.

Inside `Database.write`, each unit of work runs in its own SAVEPOINT within a shared
transaction. A callback registered here runs after that outer transaction commits, and is
dropped if the savepoint it was registered in (or any enclosing one) rolls back, so
notifications never announce changes that did not happen. Callbacks run on the committing
thread; hand work to an event loop with `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_PENDING = "dlt.post_commit.pending"


@dataclass(frozen=True)
class _Pending:
    transaction: SessionTransaction
    callback: Callable[[], None]


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call `callback()` after `session`'s current transaction commits, never if it rolls back."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        raise RuntimeError("on_commit needs a transaction in progress on the session")
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
    pending.append(_Pending(transaction, callback))


def pending_mark(session: Session) -> int:
    """How many callbacks are pending now: pass it to `discard_pending` to undo later ones."""
    return len(session.info.get(_PENDING, ()))


def discard_pending(session: Session, mark: int) -> None:
    """Drop the callbacks registered since `pending_mark` returned `mark`.

    For savepoints the session does not manage (the database's per-unit ones): when such a
    savepoint rolls back, what was registered inside it must never run."""
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending is not None:
        del pending[mark:]


def _after_commit(session: Session) -> None:
    # Also fired when a savepoint is released; only the outermost commit makes changes durable,
    # and while it is being dispatched no savepoint is open.
    if session.get_nested_transaction() is not None:
        return
    pending: list[_Pending] = session.info.get(_PENDING, [])
    callbacks = [entry.callback for entry in pending]
    pending.clear()
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("a post-commit callback failed; the commit itself succeeded")


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] = session.info.get(_PENDING, [])
    pending[:] = [
        entry for entry in pending if not _within(entry.transaction, previous_transaction)
    ]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
