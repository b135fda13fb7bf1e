"""The node's vault: records transactions, answers queries, soft-locks states, feeds updates.

Methods taking a `session` run inside a unit of work (`db.write`) or a read, so they commit
or roll back together with whatever else that unit does; the `async` methods are
conveniences that run one unit on their own. Live-feed updates are published only after the
commit that made them, whichever way the recording was done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from dlt.crypto import PublicKey
from dlt.ledger import SignedTransaction, StateAndRef, StateRef
from dlt.vault import recording, soft_locks
from dlt.vault.database import Database
from dlt.vault.feed import VaultFeed, VaultSubscription, VaultUpdate
from dlt.vault.ledger_lookup import SessionLedgerLookup
from dlt.vault.post_commit import on_commit
from dlt.vault.query import Page, PageSpecification, QueryCriteria, Sort
from dlt.vault.query_sql import query_states
from dlt.vault.schema import utc_now
from dlt.vault.soft_locks import Enough


class VaultService:
    """One node's vault over its `Database`; `our_keys()` lists the keys the node owns now."""

    def __init__(
        self,
        db: Database,
        our_keys: Callable[[], Iterable[PublicKey]],
        *,
        clock: Callable[[], datetime] = utc_now,
        feed: VaultFeed | None = None,
    ) -> None:
        self._db = db
        self._our_keys = our_keys
        self._clock = clock
        self.feed = feed or VaultFeed()

    # -- recording ------------------------------------------------------------------------

    def record_transactions(
        self, session: Session, stxs: Iterable[SignedTransaction]
    ) -> VaultUpdate:
        """Store `stxs`, track our new outputs and consume our inputs, in this unit of work."""
        update = recording.record_transactions(
            session, stxs, frozenset(self._our_keys()), self._clock()
        )
        if not update.is_empty:
            on_commit(session, lambda: self.feed.publish(update))
        return update

    async def record(self, stxs: Iterable[SignedTransaction]) -> VaultUpdate:
        """Record `stxs` in a unit of work of their own."""
        batch = list(stxs)
        return await self._db.write(lambda session: self.record_transactions(session, batch))

    # -- queries --------------------------------------------------------------------------

    def query_in(
        self,
        session: Session,
        criteria: QueryCriteria | None = None,
        paging: PageSpecification | None = None,
        sort: Sort | None = None,
    ) -> Page:
        """A page of states matching `criteria` (unconsumed states when None)."""
        return query_states(session, criteria, paging, sort)

    async def query(
        self,
        criteria: QueryCriteria | None = None,
        paging: PageSpecification | None = None,
        sort: Sort | None = None,
    ) -> Page:
        """`query_in` in a read of its own."""
        return await self._db.read(lambda session: query_states(session, criteria, paging, sort))

    def track(self, criteria: QueryCriteria | None = None) -> VaultSubscription:
        """Receive every committed update from now on, filtered by `criteria`.

        Call from a coroutine. To see current states and never miss a change, subscribe
        first, then query: an update may then show up in both.
        """
        return self.feed.subscribe(criteria)

    # -- soft locks -----------------------------------------------------------------------

    def soft_lock_reserve(self, session: Session, lock_id: str, refs: Iterable[StateRef]) -> None:
        """Lock all of `refs` for `lock_id` or none; see `soft_locks.soft_lock_reserve`."""
        soft_locks.soft_lock_reserve(session, lock_id, refs, now=self._clock())

    def soft_lock_release(
        self, session: Session, lock_id: str, refs: Iterable[StateRef] | None = None
    ) -> int:
        """Release `lock_id`'s locks (on `refs` only, if given); returns how many."""
        return soft_locks.soft_lock_release(session, lock_id, refs)

    def select_and_lock(
        self,
        session: Session,
        lock_id: str,
        criteria: QueryCriteria,
        *,
        sort: Sort | None = None,
        limit: int | None = None,
        enough: Enough | None = None,
    ) -> list[StateAndRef]:
        """Coin selection that locks what it picks; see `soft_locks.select_and_lock`."""
        return soft_locks.select_and_lock(
            session, lock_id, criteria, now=self._clock(), sort=sort, limit=limit, enough=enough
        )

    # -- resolution -----------------------------------------------------------------------

    def ledger_lookup(self, session: Session) -> SessionLedgerLookup:
        """A `LedgerLookup` reading through `session`."""
        return SessionLedgerLookup(session)
