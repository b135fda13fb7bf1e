"""Database behaviour the vault relies on: reads never take the write lock, no self-waits."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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


def _batched(database, *works):
    """Submit `works` while the writer is held, so they commit together in one batch."""
    import threading

    started, gate = threading.Event(), threading.Event()
    blocker = database.submit(lambda s: (started.set(), gate.wait(10)))
    assert started.wait(10)
    futures = [database.submit(work) for work in works]
    gate.set()
    blocker.result(10)
    return futures


def _facts(database):
    return database.read_sync(
        lambda s: s.execute(text("SELECT x FROM facts ORDER BY x")).scalars().all()
    )


def test_a_failing_unit_in_a_batch_rolls_back_alone(database):
    database.write_sync(lambda s: s.execute(text("CREATE TABLE facts (x INTEGER PRIMARY KEY)")))

    def failing(session):
        session.execute(text("INSERT INTO facts VALUES (2)"))
        raise RuntimeError("this unit fails after writing")

    first, bad, last = _batched(
        database,
        lambda s: s.execute(text("INSERT INTO facts VALUES (1)")),
        failing,
        lambda s: s.execute(text("INSERT INTO facts VALUES (3)")),
    )

    first.result(10), last.result(10)
    with pytest.raises(RuntimeError):
        bad.result(10)
    assert _facts(database) == [1, 3]


def test_a_unit_failing_on_a_database_error_in_a_batch_leaves_its_neighbours_committed(database):
    database.write_sync(lambda s: s.execute(text("CREATE TABLE facts (x INTEGER PRIMARY KEY)")))
    database.write_sync(lambda s: s.execute(text("INSERT INTO facts VALUES (1)")))

    def duplicate(session):
        session.execute(text("INSERT INTO facts VALUES (5)"))
        session.execute(text("INSERT INTO facts VALUES (1)"))

    before, bad, after = _batched(
        database,
        lambda s: s.execute(text("INSERT INTO facts VALUES (2)")),
        duplicate,
        lambda s: s.execute(text("INSERT INTO facts VALUES (3)")),
    )

    before.result(10), after.result(10)
    with pytest.raises(IntegrityError):
        bad.result(10)
    assert _facts(database) == [1, 2, 3]


def test_a_unit_that_leaves_its_own_savepoint_open_still_commits_or_rolls_back_whole(database):
    database.write_sync(lambda s: s.execute(text("CREATE TABLE facts (x INTEGER PRIMARY KEY)")))

    def open_and_keep(x, fail):
        def work(session):
            session.begin_nested()
            session.execute(text(f"INSERT INTO facts VALUES ({x})"))
            if fail:
                raise RuntimeError("failed inside its own savepoint")

        return work

    kept, failed, neighbour = _batched(
        database,
        open_and_keep(1, fail=False),
        open_and_keep(2, fail=True),
        lambda s: s.execute(text("INSERT INTO facts VALUES (3)")),
    )

    kept.result(10), neighbour.result(10)
    with pytest.raises(RuntimeError):
        failed.result(10)
    assert _facts(database) == [1, 3]


def test_post_commit_callbacks_of_a_failed_unit_in_a_batch_never_run(database):
    from dlt.vault.post_commit import on_commit

    ran = []

    def unit(name, fail):
        def work(session):
            on_commit(session, lambda: ran.append(name))
            if fail:
                raise RuntimeError("rolled back")

        return work

    good, bad, other = _batched(
        database, unit("good", False), unit("bad", True), unit("other", False)
    )

    good.result(10), other.result(10)
    with pytest.raises(RuntimeError):
        bad.result(10)
    assert ran == ["good", "other"]
