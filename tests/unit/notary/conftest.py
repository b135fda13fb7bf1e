"""Notary stores on a fresh SQLite file and a fresh PostgreSQL database per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dlt.testing.postgres import PostgresCluster, PostgresNotInstalledError
from dlt.vault.database import Database, sqlite_url
from fixtures.ledger import NOTARY
from notary.replica import NotaryReplica
from notary.uniqueness import SqlUniquenessProvider

from .support import fixed_clock

OpenDatabase = Callable[[], Database]

_database_names = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One private cluster for the session; each test gets its own database in it."""
    try:
        cluster = PostgresCluster.start()
    except PostgresNotInstalledError as exc:
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "notary.db")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"notary_test_{next(_database_names)}")


@pytest.fixture
def open_database(database_url: str) -> Iterator[OpenDatabase]:
    """Opens the test's database; call again to model a restart or a second process."""
    opened: list[Database] = []

    def open_() -> Database:
        db = Database(database_url, sqlite_synchronous="NORMAL")
        opened.append(db)
        return db

    yield open_
    for db in opened:
        db.close()


@pytest.fixture
def db(open_database: OpenDatabase) -> Database:
    return open_database()


@pytest.fixture
def provider(db: Database) -> SqlUniquenessProvider:
    return SqlUniquenessProvider(db)


@pytest.fixture
def replica(provider: SqlUniquenessProvider) -> NotaryReplica:
    return NotaryReplica(NOTARY.key, NOTARY.party, provider, fixed_clock)
