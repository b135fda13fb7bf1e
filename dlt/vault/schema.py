"""The vault's tables, on the node's shared `metadata`.

Times are stored as integer microseconds since the Unix epoch (UTC), so SQLite and PostgreSQL
store, compare and sort them identically; Python sees timezone-aware datetimes. Hashes and key
fingerprints are lowercase hex. Only relevant states (one of our keys is a participant) get a
row in `states`; every output of every stored transaction stays reachable through
`transactions`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Dialect,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    false,
    tuple_,
)
from sqlalchemy.types import TypeDecorator

from dlt.vault.database import metadata

HEX_LENGTH = 64
NAME_LENGTH = 512
TYPE_NAME_LENGTH = 255
LOCK_ID_LENGTH = 128

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    """The current time as a timezone-aware UTC datetime: the vault's default clock."""
    return datetime.now(UTC)


class UtcTimestamp(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as microseconds since the epoch in a BIGINT."""

    impl = BigInteger
    cache_ok = True

    @property
    def python_type(self) -> type:
        """datetime, so an RPC filter on such a column parses its text as a time (the
        default would name no type, and the condition reached SQL as text)."""
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"vault times must be timezone-aware (use UTC), got {value!r}")
        return (value - _EPOCH) // timedelta(microseconds=1)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return _EPOCH + timedelta(microseconds=int(value))


class StateStatus(enum.StrEnum):
    """Whether a state is spent. `ALL` is for queries only; rows are never `ALL`."""

    UNCONSUMED = "unconsumed"
    CONSUMED = "consumed"
    ALL = "all"


def _hex(name: str, **kwargs: Any) -> Column[str]:
    return Column(name, String(HEX_LENGTH), **kwargs)


transactions = Table(
    "transactions",
    metadata,
    _hex("id", primary_key=True),
    Column("data", LargeBinary, nullable=False, comment="encoded SignedTransaction"),
    Column("recorded_at", UtcTimestamp, nullable=False),
    Index("ix_transactions_recorded", "recorded_at", "id"),
)

states = Table(
    "states",
    metadata,
    _hex("txhash", primary_key=True),
    Column("output_index", Integer, primary_key=True, autoincrement=False),
    Column("state_type", String(TYPE_NAME_LENGTH), nullable=False),
    Column("contract", String(TYPE_NAME_LENGTH), nullable=False),
    Column("notary_name", String(NAME_LENGTH), nullable=False),
    _hex("notary_key", nullable=False),
    Column(
        "status",
        Enum(
            StateStatus.UNCONSUMED.value,
            StateStatus.CONSUMED.value,
            name="state_status",
            native_enum=False,
            create_constraint=True,
            length=16,
        ),
        nullable=False,
    ),
    Column("recorded_at", UtcTimestamp, nullable=False),
    Column("consumed_at", UtcTimestamp, nullable=True),
    _hex("consuming_tx", nullable=True),
    Column("lock_id", String(LOCK_ID_LENGTH), nullable=True),
    Column("lock_time", UtcTimestamp, nullable=True),
    Column("data", LargeBinary, nullable=False, comment="encoded TransactionState"),
    Index("ix_states_status_type", "status", "state_type", "recorded_at"),
    Index("ix_states_recorded", "recorded_at"),
    Index("ix_states_consumed", "consumed_at"),
    Index("ix_states_notary", "notary_key"),
    Index("ix_states_lock", "lock_id"),
)

state_participants = Table(
    "state_participants",
    metadata,
    _hex("txhash", primary_key=True),
    Column("output_index", Integer, primary_key=True, autoincrement=False),
    _hex("key", primary_key=True, comment="fingerprint of a participant's owning key"),
    ForeignKeyConstraint(
        ["txhash", "output_index"],
        [states.c.txhash, states.c.output_index],
        ondelete="CASCADE",
    ),
    Index("ix_state_participants_key", "key"),
)

attachments = Table(
    "attachments",
    metadata,
    _hex("id", primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("signatures", LargeBinary, nullable=False, comment="encoded list of signatures"),
    Column("uploaded_at", UtcTimestamp, nullable=False),
    Column("uploader", String(NAME_LENGTH), nullable=True),
    Column("filename", String(NAME_LENGTH), nullable=True),
    Index("ix_attachments_uploaded", "uploaded_at", "id"),
)

identities = Table(
    "identities",
    metadata,
    _hex("key", primary_key=True, comment="fingerprint of the public key"),
    Column("name", String(NAME_LENGTH), nullable=True, comment="X.500 name; NULL if anonymous"),
    Column("public_key", LargeBinary, nullable=False, comment="encoded PublicKey"),
    Column("cert_chain", Text, nullable=True, comment="PEM certificates, leaf first"),
    Column("registered_at", UtcTimestamp, nullable=False),
    Index("ix_identities_name", "name"),
)


IN_CHUNK = 500
"""Most keys bound in one IN list, well under SQLite's and PostgreSQL's parameter limits."""

T = TypeVar("T")


def key_in(
    txhash: ColumnElement[str], index: ColumnElement[int], pairs: Sequence[tuple[str, int]]
) -> ColumnElement[bool]:
    """Rows whose (txhash, index) is one of `pairs`. The plain `txhash IN` lets SQLite search
    a key that starts with txhash; for a row-value IN alone it scans the whole table."""
    if not pairs:
        return false()
    return and_(txhash.in_(distinct_hashes(pairs)), tuple_(txhash, index).in_(list(pairs)))


def distinct_hashes(pairs: Iterable[tuple[str, int]]) -> list[str]:
    """The transaction hashes of `pairs`, each once, in first-seen order: the plain IN list
    that goes beside a row-value IN (`key_in`)."""
    return list(dict.fromkeys(txhash_value for txhash_value, _ in pairs))


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
