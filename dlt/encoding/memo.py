"""A bounded memo of decoded objects by their exact bytes.

A flow decodes the same bytes again in each step (the transaction it received, then the same
transaction journaled, replayed, recorded and sent on), and each decode re-encodes to prove the
bytes canonical. Ledger objects are immutable, so one decoded object can serve every later
decode of the same bytes; mutable containers (plain lists and maps) are never memoised.

The memo also answers the other way: the bytes a held object was decoded from are, as its
decode proved, exactly its encoding, so encoding it again (to record it, send it on, journal
it) need not lower it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_PAYLOAD = 64 * 1024
"""Larger payloads are decoded every time (attachments, big back-chains): rare, and costly to
hold."""


class DecodeMemo:
    """A thread-safe LRU from bytes to the immutable object they decode to, bounded both in
    entries and in the bytes it keeps."""

    def __init__(self, entries: int = 8192, budget: int = 64 * 1024 * 1024) -> None:
        self._entries = entries
        self._budget = budget
        self._held = 0
        self._items: OrderedDict[bytes, Any] = OrderedDict()
        self._by_object: dict[int, tuple[Any, bytes]] = {}
        """By the id of each held object: the object itself (held, so its id is not reused
        while the entry lives) and its bytes."""
        self._lock = threading.Lock()

    def get(self, data: bytes) -> Any | None:
        with self._lock:
            found = self._items.get(data)
            if found is not None:
                self._items.move_to_end(data)
            return found

    def encoding_of(self, obj: Any) -> bytes | None:
        """The bytes `obj` was decoded from, if it is held. Lock-free: a dict lookup is atomic,
        and an entry found stays true for its object even if it is evicted meanwhile."""
        found = self._by_object.get(id(obj))
        if found is None or found[0] is not obj:
            return None
        return found[1]

    def put(self, data: bytes, obj: Any) -> None:
        if len(data) > MAX_PAYLOAD or obj is None or isinstance(obj, list | dict):
            return
        with self._lock:
            if data in self._items:
                return
            self._items[data] = obj
            self._by_object[id(obj)] = (obj, data)
            self._held += len(data)
            while len(self._items) > self._entries or self._held > self._budget:
                oldest, evicted = self._items.popitem(last=False)
                self._held -= len(oldest)
                if self._by_object.get(id(evicted), (None, None))[1] is oldest:
                    del self._by_object[id(evicted)]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._by_object.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._items)
