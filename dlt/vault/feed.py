"""The vault's live feed: subscribers receive every committed change to the states they track.

Publishing is thread-safe (it happens on the database writer thread, after the commit) and
hands each update to the subscriber's own event loop. Filtering uses what a state itself
shows (type, participants, notary, reference, custom columns); status, time and soft-lock
conditions describe vault rows, not states, and are ignored here.
"""

from __future__ import annotations

import asyncio
import operator
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from dlt.encoding import type_name_of
from dlt.ledger import StateAndRef
from dlt.vault.custom_schemas import require_schema
from dlt.vault.errors import VaultFeedOverflowError
from dlt.vault.query import (
    AndCriteria,
    CustomColumnCriteria,
    Operator,
    OrCriteria,
    QueryCriteria,
    VaultQueryCriteria,
    like_tokens,
)

DEFAULT_MAX_PENDING = 10_000
"""Updates a subscriber may leave unread before it is cut off with VaultFeedOverflowError."""


@dataclass(frozen=True)
class VaultUpdate:
    """States a commit added to the vault and states it marked consumed."""

    produced: tuple[StateAndRef, ...] = ()
    consumed: tuple[StateAndRef, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.produced and not self.consumed

    def filtered(self, criteria: QueryCriteria | None) -> VaultUpdate:
        if criteria is None:
            return self
        return VaultUpdate(
            produced=tuple(s for s in self.produced if state_matches(criteria, s)),
            consumed=tuple(s for s in self.consumed if state_matches(criteria, s)),
        )


_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
}


def _like(value: Any, pattern: str) -> bool:
    regex = "".join(
        ".*" if kind == "any" else "." if kind == "one" else re.escape(char)
        for kind, char in like_tokens(pattern)
    )
    return isinstance(value, str) and re.fullmatch(regex, value, re.DOTALL) is not None


def _custom_matches(criteria: CustomColumnCriteria, sar: StateAndRef) -> bool:
    data = sar.state.data
    if type(data) is not criteria.state_type:
        return False
    value = require_schema(criteria.state_type).values(data)[criteria.column]
    wanted = criteria.value
    if criteria.operator is Operator.IS_NULL:
        return (value is None) is bool(wanted)
    if value is None:
        return False
    if criteria.operator is Operator.IN:
        return bool(value in wanted)
    if criteria.operator is Operator.BETWEEN:
        return bool(wanted[0] <= value <= wanted[1])
    if criteria.operator is Operator.LIKE:
        return _like(value, wanted)
    return _COMPARE[criteria.operator](value, wanted)


def _standard_matches(criteria: VaultQueryCriteria, sar: StateAndRef) -> bool:
    state = sar.state
    if criteria.state_types and type_name_of(type(state.data)) not in criteria.state_type_names:
        return False
    if criteria.participants:
        keys = {str(p.owning_key.fingerprint) for p in state.data.participants}
        if keys.isdisjoint(criteria.participant_keys):
            return False
    if criteria.notary and str(state.notary.owning_key.fingerprint) not in criteria.notary_keys:
        return False
    return not criteria.refs or sar.ref in criteria.refs


def state_matches(criteria: QueryCriteria, sar: StateAndRef) -> bool:
    """Whether the state itself satisfies `criteria` (see the module docstring)."""
    match criteria:
        case VaultQueryCriteria():
            return _standard_matches(criteria, sar)
        case CustomColumnCriteria():
            return _custom_matches(criteria, sar)
        case AndCriteria(parts=parts):
            return all(state_matches(part, sar) for part in parts)
        case OrCriteria(parts=parts):
            return any(state_matches(part, sar) for part in parts)
    return False


_OVERFLOW = object()


class VaultSubscription:
    """An async iterator of VaultUpdates; close it (or use `async with`) to stop receiving."""

    def __init__(self, feed: VaultFeed, criteria: QueryCriteria | None, max_pending: int) -> None:
        self._feed = feed
        self.criteria = criteria
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "subscribe to the vault feed from a coroutine: updates are delivered to the "
                "event loop that subscribed"
            ) from None
        self._queue: asyncio.Queue[VaultUpdate | object] = asyncio.Queue()
        self._max_pending = max_pending
        self._closed = False
        self._overflowed = False

    def offer(self, update: VaultUpdate) -> None:
        """Queue `update` if it matches; called by the feed on any thread, never blocks."""
        filtered = update.filtered(self.criteria)
        if filtered.is_empty:
            return
        try:
            self._loop.call_soon_threadsafe(self._enqueue, filtered)
        except RuntimeError:
            self._feed.unsubscribe(self)

    def _enqueue(self, update: VaultUpdate) -> None:
        if self._closed or self._overflowed:
            return
        if self._queue.qsize() >= self._max_pending:
            self._overflowed = True
            self._feed.unsubscribe(self)
            self._queue.put_nowait(_OVERFLOW)
            return
        self._queue.put_nowait(update)

    def pending(self) -> int:
        """Updates received but not yet read."""
        return self._queue.qsize()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> VaultUpdate:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _OVERFLOW:
            self._closed = True
            raise VaultFeedOverflowError(
                f"this subscriber left more than {self._max_pending} vault updates unread and "
                "was cut off; query the vault again and subscribe anew"
            )
        if isinstance(item, VaultUpdate):
            return item
        raise StopAsyncIteration

    async def next(self, timeout: float | None = None) -> VaultUpdate:
        """The next update, waiting at most `timeout` seconds (TimeoutError after that)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def close(self) -> None:
        """Stop receiving; an iteration in progress ends after the updates already queued."""
        if self._closed:
            return
        self._closed = True
        self._feed.unsubscribe(self)
        self._queue.put_nowait(None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


class VaultFeed:
    """Fans committed updates out to subscribers on their own event loops."""

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._subscribers: list[VaultSubscription] = []
        self._lock = threading.Lock()
        self._max_pending = max_pending

    def subscribe(self, criteria: QueryCriteria | None = None) -> VaultSubscription:
        """Start receiving updates now; call from a coroutine (it binds the running loop)."""
        subscription = VaultSubscription(self, criteria, self._max_pending)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: VaultSubscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    def publish(self, update: VaultUpdate) -> None:
        """Deliver `update` to every subscriber whose criteria it matches; any thread."""
        if update.is_empty:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.offer(update)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)
