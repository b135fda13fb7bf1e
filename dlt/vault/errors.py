"""Why a vault operation was refused; every message says what to do about it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlt.ledger import StateRef


class VaultError(Exception):
    """Base of every vault failure."""


class VaultQueryError(VaultError):
    """A query, its criteria, paging or sort is invalid or would return too much at once."""


class StateSchemaError(VaultError):
    """A custom state schema is malformed, conflicts with another, or its extractor misbehaves."""


class IdentityConflictError(VaultError):
    """A key is already registered under a different legal name."""


class VaultFeedOverflowError(VaultError):
    """A live-feed subscriber fell so far behind that updates were dropped."""


def _refs_text(refs: Iterable[StateRef]) -> str:
    return ", ".join(sorted(str(ref) for ref in refs))


class StatesNotAvailableError(VaultError):
    """States cannot be soft-locked: unknown here, already consumed, or locked by someone else."""

    def __init__(
        self,
        lock_id: str,
        *,
        unknown: Iterable[StateRef] = (),
        consumed: Iterable[StateRef] = (),
        locked_by: Mapping[StateRef, str] | None = None,
    ) -> None:
        self.lock_id = lock_id
        self.unknown = frozenset(unknown)
        self.consumed = frozenset(consumed)
        self.locked_by = dict(locked_by or {})
        problems = []
        if self.unknown:
            problems.append(f"not in this vault: {_refs_text(self.unknown)}")
        if self.consumed:
            problems.append(f"already consumed: {_refs_text(self.consumed)}")
        for ref, holder in sorted(self.locked_by.items(), key=lambda item: str(item[0])):
            problems.append(f"{ref} is soft-locked by {holder!r}")
        super().__init__(
            f"cannot soft-lock states for {lock_id!r}: {'; '.join(problems) or 'they changed'}. "
            "Select other states, or wait for the holder to finish or release its lock."
        )


class InsufficientStatesError(VaultError):
    """Coin selection found too few unconsumed, unlocked states to satisfy the request."""

    def __init__(self, lock_id: str, selected: int, reason: str, locked_elsewhere: int) -> None:
        self.lock_id = lock_id
        self.selected = selected
        self.locked_elsewhere = locked_elsewhere
        hint = (
            f"; {locked_elsewhere} more matching states are soft-locked by other flows, "
            "so retrying after they finish may succeed"
            if locked_elsewhere
            else "; issue or receive more states, or relax the criteria"
        )
        super().__init__(f"cannot select enough states for {lock_id!r}: {reason}{hint}")
