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


async def test_a_write_whose_caller_was_cancelled_is_skipped_and_the_writer_carries_on(tmp_path):
    import asyncio
    import threading

    from sqlalchemy import text

    from dlt.vault.database import Database, sqlite_url

    db = Database(sqlite_url(tmp_path / "cancel.db"))
    try:
        db.write_sync(lambda s: s.execute(text("CREATE TABLE t (v INTEGER)")))
        started, gate = threading.Event(), threading.Event()
        blocker = db.submit(lambda s: (started.set(), gate.wait(5)))
        await asyncio.to_thread(started.wait, 5)  # the next write queues behind a running one
        cancelled = asyncio.ensure_future(
            db.write(lambda s: s.execute(text("INSERT INTO t VALUES (1)")))
        )
        await asyncio.sleep(0.05)
        cancelled.cancel()
        await asyncio.sleep(0.05)  # the cancellation reaches the queued job's future
        gate.set()
        await asyncio.wrap_future(blocker)

        await asyncio.wait_for(
            db.write(lambda s: s.execute(text("INSERT INTO t VALUES (2)"))), timeout=5
        )

        rows = db.read_sync(lambda s: s.execute(text("SELECT v FROM t")).scalars().all())
        assert rows == [2]
    finally:
        db.close()
