"""The node's database: SQLite by default, PostgreSQL by URL, never touched from the event loop.

Writes go through one writer thread that group-commits: it takes every unit of work queued
while the previous commit ran and commits them together, each inside its own savepoint, so a
failing unit rolls back alone while the rest share one fsync. Reads run on a small pool.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dlt.vault.post_commit import discard_pending, pending_mark

T = TypeVar("T")

metadata = MetaData()
"""Every table the node owns, from every module that owns one."""

MAX_BATCH = 256

_UNIT_SAVEPOINT = "dlt_unit"
"""The savepoint around each unit of work of a batch; units run one after another, so one
name serves them all (savepoints a unit opens itself nest inside it)."""


class DatabaseError(Exception):
    """The database could not be opened or a unit of work could not be committed."""


@dataclass
class _Job:
    work: Callable[[Session], Any]
    future: Future[Any]


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself so savepoints and transactions behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("writer") else "BEGIN")


def _close_nested(session: Session, *, commit: bool) -> None:
    """End session savepoints a unit of work left open, as ending its own savepoint through
    the session would have done, so the session and the connection agree on what is open."""
    while (nested := session.get_nested_transaction()) is not None:
        if commit:
            nested.commit()
        else:
            nested.rollback()


class Database:
    """One node's database. Thread-safe; async callers use `write` and `read`."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "FULL", read_threads: int = 2
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine = create_engine(url, pool_pre_ping=not self.is_sqlite)
        except Exception as exc:
            raise DatabaseError(f"cannot open database {url!r}: {exc}") from exc
        if self.is_sqlite:
            _configure_sqlite(self.engine, sqlite_synchronous)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="db-writer", daemon=True)
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="db-reader")
        self._closed = False
        self._writer.start()

    def create_tables(self) -> None:
        """Create every registered table, and every declared index, that does not exist yet
        (a vault made by an earlier release gains the indexes added since)."""
        metadata.create_all(self.engine)
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)

    # -- writes ---------------------------------------------------------------------------

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue `work(session)`; it commits atomically, possibly with other units of work."""
        if self._closed:
            raise DatabaseError("the database is closed")
        future: Future[T] = Future()
        self._jobs.put(_Job(work, future))
        return future

    async def write(self, work: Callable[[Session], T]) -> T:
        return await asyncio.wrap_future(self.submit(work))

    def write_sync(self, work: Callable[[Session], T]) -> T:
        if threading.current_thread() is self._writer:
            raise DatabaseError(
                "write_sync called from inside a unit of work would wait for itself forever; "
                "use the session the unit of work was given"
            )
        return self.submit(work).result()

    def _write_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._jobs.put(None)
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        # Claim each job before running it: one whose caller was cancelled while it waited is
        # skipped, and a claimed one can no longer be cancelled, so setting its result below
        # cannot fail and take the writer thread down.
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        results: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self.engine.connect() as connection:
                # `info` belongs to the pooled DBAPI connection and outlives this checkout:
                # clear the flag, or a reader reusing the connection would BEGIN IMMEDIATE.
                connection.info["writer"] = True
                try:
                    if len(batch) == 1:
                        results.append(self._commit_alone(connection, batch[0]))
                    else:
                        self._commit_together(connection, batch, results)
                finally:
                    connection.info.pop("writer", None)
        except Exception as exc:
            error = DatabaseError(f"commit failed: {exc}")
            error.__cause__ = exc
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        for job, result, failure in results:
            if failure is not None:
                job.future.set_exception(failure)
            else:
                job.future.set_result(result)

    @staticmethod
    def _commit_alone(connection: Any, job: _Job) -> tuple[_Job, Any, BaseException | None]:
        """One unit of work needs no savepoint: if it fails, the whole transaction is its own."""
        with Session(bind=connection) as session:
            session.begin()
            try:
                result = job.work(session)
            except Exception as exc:
                session.rollback()
                return job, None, exc
            session.commit()
            return job, result, None

    @staticmethod
    def _commit_together(
        connection: Any, batch: list[_Job], results: list[tuple[_Job, Any, BaseException | None]]
    ) -> None:
        """Each unit of work in its own savepoint, so a failing one rolls back alone.

        The savepoints are plain SQL on the connection rather than `Session.begin_nested`,
        which costs several times more per unit; post-commit callbacks a failed unit
        registered are discarded here, as a session savepoint's rollback would have done.
        """
        with Session(bind=connection) as session, session.begin():
            session.connection()  # the session's transaction is the outer one: BEGIN here
            for job in batch:
                mark = pending_mark(session)
                connection.exec_driver_sql(f"SAVEPOINT {_UNIT_SAVEPOINT}")
                try:
                    result = job.work(session)
                    _close_nested(session, commit=True)
                    session.flush()  # ORM changes, if a unit makes any, inside its savepoint
                    connection.exec_driver_sql(f"RELEASE SAVEPOINT {_UNIT_SAVEPOINT}")
                except Exception as exc:
                    _close_nested(session, commit=False)
                    connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_UNIT_SAVEPOINT}")
                    connection.exec_driver_sql(f"RELEASE SAVEPOINT {_UNIT_SAVEPOINT}")
                    session.expunge_all()  # earlier units flushed: what is left was this one's
                    discard_pending(session, mark)
                    results.append((job, None, exc))
                else:
                    results.append((job, result, None))

    # -- reads ----------------------------------------------------------------------------

    def _read(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return work(session)

    async def read(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._read, work)

    def read_sync(self, work: Callable[[Session], T]) -> T:
        return self._read(work)

    def close(self) -> None:
        """Finish queued writes, then release every connection."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join()
        self._readers.shutdown(wait=True)
        self.engine.dispose()
