"""What to ask the vault: criteria (composable with `&` and `|`), paging, sorting, and pages.

These are small immutable values checked on construction, so a mistake is reported where the
query is written rather than when it runs. `query_sql` turns them into SQL.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from dlt.crypto import PublicKey, SecureHash
from dlt.encoding import EncodingError, type_name_of
from dlt.identity import AbstractParty, Party
from dlt.ledger import ContractState, StateAndRef, StateRef
from dlt.vault.custom_schemas import require_schema
from dlt.vault.errors import VaultQueryError
from dlt.vault.schema import StateStatus

DEFAULT_PAGE_SIZE = 200
"""Most states an unpaged query may return; beyond it the query must be paged."""

MAX_PAGE_SIZE = 10_000


class QueryCriteria:
    """Base of all criteria: `a & b` needs both, `a | b` either."""

    def __and__(self, other: QueryCriteria) -> QueryCriteria:
        return AndCriteria(_flatten(AndCriteria, self, other))

    def __or__(self, other: QueryCriteria) -> QueryCriteria:
        return OrCriteria(_flatten(OrCriteria, self, other))


@dataclass(frozen=True)
class AndCriteria(QueryCriteria):
    parts: tuple[QueryCriteria, ...]


@dataclass(frozen=True)
class OrCriteria(QueryCriteria):
    parts: tuple[QueryCriteria, ...]


def _flatten(
    kind: type[AndCriteria | OrCriteria], left: object, right: object
) -> tuple[QueryCriteria, ...]:
    parts: list[QueryCriteria] = []
    for side in (left, right):
        if not isinstance(side, QueryCriteria):
            raise VaultQueryError(f"cannot combine criteria with a {type(side).__name__}")
        parts.extend(side.parts if isinstance(side, kind) else (side,))
    return tuple(parts)


class SoftLockKind(enum.StrEnum):
    ANY = "any"
    UNLOCKED = "unlocked"
    LOCKED = "locked"
    UNLOCKED_OR = "unlocked_or"


@dataclass(frozen=True)
class SoftLocking:
    """Which soft-lock states a query sees: `ANY`, `UNLOCKED_ONLY`, `locked_only(lock_id)`."""

    kind: SoftLockKind
    lock_id: str | None = None

    ANY: ClassVar[SoftLocking]
    UNLOCKED_ONLY: ClassVar[SoftLocking]

    @classmethod
    def locked_only(cls, lock_id: str | None = None) -> SoftLocking:
        """States locked by `lock_id`, or by anyone when it is None."""
        return cls(SoftLockKind.LOCKED, lock_id)

    @classmethod
    def unlocked_or(cls, lock_id: str) -> SoftLocking:
        """Unlocked states plus those already locked by `lock_id` (what coin selection sees)."""
        return cls(SoftLockKind.UNLOCKED_OR, lock_id)


SoftLocking.ANY = SoftLocking(SoftLockKind.ANY)
SoftLocking.UNLOCKED_ONLY = SoftLocking(SoftLockKind.UNLOCKED)


def _aware(name: str, moment: datetime | None) -> None:
    if moment is not None and moment.tzinfo is None:
        raise VaultQueryError(f"{name} must be timezone-aware (use UTC), got {moment!r}")


def _range(low_name: str, low: datetime | None, high_name: str, high: datetime | None) -> None:
    _aware(low_name, low)
    _aware(high_name, high)
    if low is not None and high is not None and low >= high:
        raise VaultQueryError(f"{low_name} ({low}) must be before {high_name} ({high})")


@dataclass(frozen=True)
class VaultQueryCriteria(QueryCriteria):
    """Conditions on the standard state columns; empty tuples and None mean "any".

    Time ranges are half-open: `recorded_after` is inclusive, `recorded_before` exclusive
    (likewise for consumed). A consumed-time bound only matches consumed states.
    """

    status: StateStatus = StateStatus.UNCONSUMED
    state_types: tuple[type[ContractState], ...] = ()
    participants: tuple[AbstractParty | PublicKey, ...] = ()
    notary: tuple[Party | PublicKey, ...] = ()
    recorded_after: datetime | None = None
    recorded_before: datetime | None = None
    consumed_after: datetime | None = None
    consumed_before: datetime | None = None
    refs: tuple[StateRef, ...] = ()
    soft_locking: SoftLocking = SoftLocking.ANY

    def __post_init__(self) -> None:
        for name in ("state_types", "participants", "notary", "refs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        try:
            object.__setattr__(self, "status", StateStatus(self.status))
        except ValueError:
            raise VaultQueryError(
                f"status must be one of {[s.value for s in StateStatus]}, got {self.status!r}"
            ) from None
        for state_type in self.state_types:
            try:
                type_name_of(state_type)
            except EncodingError as exc:
                raise VaultQueryError(f"cannot query by state type: {exc}") from exc
        _range("recorded_after", self.recorded_after, "recorded_before", self.recorded_before)
        _range("consumed_after", self.consumed_after, "consumed_before", self.consumed_before)

    @property
    def state_type_names(self) -> tuple[str, ...]:
        return tuple(type_name_of(state_type) for state_type in self.state_types)

    @property
    def participant_keys(self) -> tuple[str, ...]:
        """Hex fingerprints of the participants' owning keys."""
        return tuple(str(_key_of(p).fingerprint) for p in self.participants)

    @property
    def notary_keys(self) -> tuple[str, ...]:
        return tuple(str(_key_of(n).fingerprint) for n in self.notary)


def _key_of(who: AbstractParty | PublicKey) -> PublicKey:
    return who if isinstance(who, PublicKey) else who.owning_key


class Operator(enum.StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    BETWEEN = "between"
    LIKE = "like"
    IS_NULL = "is_null"


@dataclass(frozen=True)
class CustomColumn:
    """A column of a state type's custom schema (see `register_state_schema`)."""

    state_type: type[ContractState]
    name: str

    def __post_init__(self) -> None:
        require_schema(self.state_type).column(self.name)


@dataclass(frozen=True)
class CustomColumnCriteria(QueryCriteria):
    """`column <operator> value` on a custom schema; only states of that type can match.

    `in` takes a non-empty collection, `between` a (low, high) pair (both inclusive), `like`
    a pattern with `%` and `_` (case-sensitive; backslash escapes them), and `is_null` True
    for IS NULL or False for IS NOT NULL.
    """

    state_type: type[ContractState]
    column: str
    operator: Operator
    value: Any = None

    def __post_init__(self) -> None:
        require_schema(self.state_type).column(self.column)
        try:
            operator = Operator(self.operator)
        except ValueError:
            raise VaultQueryError(
                f"operator must be one of {[o.value for o in Operator]}, got {self.operator!r}"
            ) from None
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", _checked_value(operator, self.column, self.value))

    @property
    def custom_column(self) -> CustomColumn:
        return CustomColumn(self.state_type, self.column)


def _checked_value(operator: Operator, column: str, value: Any) -> Any:
    if operator is Operator.IN:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise VaultQueryError(f"'in' on {column!r} takes a collection of values")
        values = tuple(value)
        if not values:
            raise VaultQueryError(f"'in' on {column!r} needs at least one value")
        return values
    if operator is Operator.BETWEEN:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise VaultQueryError(f"'between' on {column!r} takes a (low, high) pair")
        pair = tuple(value)
        if len(pair) != 2 or None in pair:
            raise VaultQueryError(f"'between' on {column!r} takes a (low, high) pair")
        return pair
    if operator is Operator.LIKE:
        if not isinstance(value, str):
            raise VaultQueryError(f"'like' on {column!r} takes a string pattern")
        like_tokens(value)
        return value
    if operator is Operator.IS_NULL:
        if value is None:
            return True
        if not isinstance(value, bool):
            raise VaultQueryError(f"'is_null' on {column!r} takes True (IS NULL) or False")
        return value
    if value is None:
        raise VaultQueryError(f"{operator.value!r} on {column!r} needs a value; use 'is_null'")
    return value


LikeToken = tuple[str, str]
"""("any", "") for %, ("one", "") for _, ("char", c) for a literal character."""


def like_tokens(pattern: str) -> list[LikeToken]:
    """Split a LIKE pattern into wildcards and literals; backslash makes the next one literal."""
    tokens: list[LikeToken] = []
    escaped = False
    for char in pattern:
        if escaped:
            tokens.append(("char", char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            tokens.append(("any", ""))
        elif char == "_":
            tokens.append(("one", ""))
        else:
            tokens.append(("char", char))
    if escaped:
        raise VaultQueryError(f"like pattern {pattern!r} ends with a lone backslash")
    return tokens


class StandardColumn(enum.StrEnum):
    RECORDED_AT = "recorded_at"
    CONSUMED_AT = "consumed_at"
    STATE_TYPE = "state_type"
    TXHASH = "txhash"
    OUTPUT_INDEX = "output_index"
    LOCK_TIME = "lock_time"


class Direction(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class SortKey:
    """One sort column and its direction; missing values (NULL) always sort last."""

    column: StandardColumn | CustomColumn
    direction: Direction = Direction.ASC

    def __post_init__(self) -> None:
        if not isinstance(self.column, CustomColumn):
            try:
                object.__setattr__(self, "column", StandardColumn(self.column))
            except ValueError:
                raise VaultQueryError(
                    f"cannot sort by {self.column!r}; standard columns are "
                    f"{[c.value for c in StandardColumn]}, or use CustomColumn"
                ) from None
        object.__setattr__(self, "direction", Direction(self.direction))


@dataclass(frozen=True)
class Sort:
    """Sort keys in priority order; ties always end ordered by (txhash, output_index)."""

    keys: tuple[SortKey, ...] = ()

    @classmethod
    def by(cls, *keys: SortKey | StandardColumn | CustomColumn) -> Sort:
        return cls(tuple(key if isinstance(key, SortKey) else SortKey(key) for key in keys))


@dataclass(frozen=True)
class PageSpecification:
    """Page `page_number` (from 1) of `page_size` states (1 to MAX_PAGE_SIZE)."""

    page_number: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page_number < 1:
            raise VaultQueryError(f"page numbers start at 1, got {self.page_number}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise VaultQueryError(
                f"page size must be from 1 to {MAX_PAGE_SIZE}, got {self.page_size}"
            )

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size


@dataclass(frozen=True)
class StateMetadata:
    """What the vault knows about a state beyond the state itself."""

    ref: StateRef
    state_type: str
    contract: str
    notary_name: str
    status: StateStatus
    recorded_at: datetime
    consumed_at: datetime | None
    consuming_tx: SecureHash | None
    lock_id: str | None
    lock_time: datetime | None


@dataclass(frozen=True)
class Page:
    """One page of results; `total_states_available` counts every match, on all pages."""

    states: tuple[StateAndRef, ...]
    total_states_available: int
    page_number: int
    page_size: int
    metadata: tuple[StateMetadata, ...] = field(default=())

    @property
    def has_next(self) -> bool:
        return self.page_number * self.page_size < self.total_states_available
