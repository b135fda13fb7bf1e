"""The SQLite file the doorman and the network map share: schema creation and short writer
transactions, so the server's threads and the operator's CLI (another process) serialise on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

SQLITE_BUSY_TIMEOUT = 10.0


def create_schema(database: Path, schema: str) -> None:
    """Create tables (idempotently) outside any transaction, as executescript requires."""
    with closing(sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT)) as db:
        db.executescript(schema)


@contextmanager
def transaction(database: Path) -> Iterator[sqlite3.Connection]:
    """One short-lived connection in an immediate (writer) transaction, so the server's threads
    and other processes (the operator CLI) serialise on the file's lock."""
    db = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()
