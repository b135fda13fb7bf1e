"""Where flows live in the node's database: one row per flow, and its journal.

Every function takes a SQLAlchemy session so the engine can combine them with vault writes
in one unit of work: a journal entry and its effects always commit together.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from dlt.vault.database import metadata


class FlowStatus(enum.StrEnum):
    RUNNABLE = "runnable"
    HOSPITALISED = "hospitalised"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def finished(self) -> bool:
        return self in (FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.KILLED)


flow_runs = Table(
    "flow_runs",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("flow_name", String(200), nullable=False),
    Column("arguments", Text, nullable=True),
    Column("status", String(16), nullable=False, index=True),
    Column("peer", String(400), nullable=True),
    Column("session_id", String(200), nullable=True),
    Column("result", LargeBinary, nullable=True),
    Column("error_type", String(200), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("started_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

flow_journal = Table(
    "flow_journal",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("payload", LargeBinary, nullable=False),
)


# Built once: a statement reused as is skips construction and cache-key generation on every
# flow step (SQLAlchemy memoises both on the statement object); values travel as parameters.
_INSERT_FLOW = insert(flow_runs)
_SET_STATUS = (
    update(flow_runs)
    .where(flow_runs.c.flow_id == bindparam("key"))
    .values(
        status=bindparam("status"),
        result=bindparam("result"),
        error_type=bindparam("error_type"),
        error_message=bindparam("error_message"),
        updated_at=bindparam("updated_at"),
    )
)
_GET_FLOW = select(flow_runs).where(flow_runs.c.flow_id == bindparam("key"))
_APPEND_JOURNAL = insert(flow_journal)
_LOAD_JOURNAL = (
    select(flow_journal.c.seq, flow_journal.c.kind, flow_journal.c.payload)
    .where(flow_journal.c.flow_id == bindparam("key"))
    .order_by(flow_journal.c.seq)
)


def now_micros() -> int:
    moment = datetime.now(UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    kind: str
    payload: bytes


@dataclass(frozen=True)
class FlowRecord:
    flow_id: str
    flow_name: str
    arguments: str | None
    status: FlowStatus
    peer: str | None
    session_id: str | None
    result: bytes | None
    error_type: str | None
    error_message: str | None
    started_at: int
    updated_at: int


def insert_flow(
    session: Session,
    *,
    flow_id: str,
    flow_name: str,
    arguments: str | None,
    peer: str | None = None,
    session_id: str | None = None,
) -> None:
    stamp = now_micros()
    session.execute(
        _INSERT_FLOW,
        {
            "flow_id": flow_id,
            "flow_name": flow_name,
            "arguments": arguments,
            "status": FlowStatus.RUNNABLE.value,
            "peer": peer,
            "session_id": session_id,
            "started_at": stamp,
            "updated_at": stamp,
        },
    )


def set_status(
    session: Session,
    flow_id: str,
    status: FlowStatus,
    *,
    result: bytes | None = None,
    error_type: str | None = None,
    error_message: str | None = None,
) -> None:
    session.execute(
        _SET_STATUS,
        {
            "key": flow_id,
            "status": status.value,
            "result": result,
            "error_type": error_type,
            "error_message": error_message,
            "updated_at": now_micros(),
        },
    )


def _record(row: object) -> FlowRecord:
    mapping = row._mapping  # type: ignore[attr-defined]
    return FlowRecord(**{**mapping, "status": FlowStatus(mapping["status"])})


def get_flow(session: Session, flow_id: str) -> FlowRecord | None:
    row = session.execute(_GET_FLOW, {"key": flow_id}).first()
    return None if row is None else _record(row)


def list_flows(
    session: Session, statuses: Iterable[FlowStatus] | None = None, limit: int = 1000
) -> list[FlowRecord]:
    query = select(flow_runs).order_by(flow_runs.c.started_at, flow_runs.c.flow_id).limit(limit)
    if statuses is not None:
        query = query.where(flow_runs.c.status.in_([s.value for s in statuses]))
    return [_record(row) for row in session.execute(query)]


def append_journal(session: Session, flow_id: str, entries: Sequence[JournalEntry]) -> None:
    if entries:
        session.execute(
            _APPEND_JOURNAL,
            [
                {"flow_id": flow_id, "seq": e.seq, "kind": e.kind, "payload": e.payload}
                for e in entries
            ],
        )


def load_journal(session: Session, flow_id: str) -> list[JournalEntry]:
    rows = session.execute(_LOAD_JOURNAL, {"key": flow_id})
    return [JournalEntry(row.seq, row.kind, row.payload) for row in rows]
