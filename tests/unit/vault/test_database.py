"""Database behaviour the vault relies on: reads never take the write lock, no self-waits."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from dlt.vault import Database, DatabaseError, sqlite_url


def test_a_read_reusing_the_writers_connection_does_not_take_the_write_lock(tmp_path):
    path = tmp_path / "node.db"
    db = Database(sqlite_url(path))
    db.write_sync(lambda s: s.execute(text("CREATE TABLE facts (x INTEGER)")))

    def read_while_another_process_writes(session):
        session.execute(text("SELECT count(*) FROM facts")).scalar_one()
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    try:
        assert db.read_sync(read_while_another_process_writes)
    finally:
        db.close()


def test_waiting_for_a_write_inside_a_unit_of_work_is_refused_not_deadlocked(database):
    with pytest.raises(DatabaseError, match="would wait for itself forever"):
        database.write_sync(lambda session: database.write_sync(lambda inner: None))
