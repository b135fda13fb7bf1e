"""A bounded memo of decoded objects by their exact bytes.

A flow decodes the same bytes again in each step (the transaction it received, then the same
transaction journaled, replayed, recorded and sent on), and each decode re-encodes to prove the
bytes canonical. Ledger objects are immutable, so one decoded object can serve every later
decode of the same bytes; mutable containers (plain lists and maps) are never memoised.
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
        self._lock = threading.Lock()

    def get(self, data: bytes) -> Any | None:
        with self._lock:
            found = self._items.get(data)
            if found is not None:
                self._items.move_to_end(data)
            return found

    def put(self, data: bytes, obj: Any) -> None:
        if len(data) > MAX_PAYLOAD or obj is None or isinstance(obj, list | dict):
            return
        with self._lock:
            if data in self._items:
                return
            self._items[data] = obj
            self._held += len(data)
            while len(self._items) > self._entries or self._held > self._budget:
                oldest, _ = self._items.popitem(last=False)
                self._held -= len(oldest)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._items)
