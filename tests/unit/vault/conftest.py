"""Every vault test runs twice: on a fresh SQLite file and on a fresh PostgreSQL database.

The PostgreSQL databases live in one private cluster per test session (never the system
service), started on a free loopback port and removed afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

import fixtures.token_schema  # noqa: F401 - declares TokenState's columns before tables exist
from dlt.crypto import PublicKey
from dlt.ledger import SignedTransaction
from dlt.testing.postgres import PostgresCluster, PostgresNotInstalledError
from dlt.vault import Database, Page, VaultService, VaultUpdate, sqlite_url
from fixtures.ledger import ALICE
from fixtures.vault import FakeClock

_database_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster.start()
    except PostgresNotInstalledError as exc:
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "vault.db")
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"vault_test_{next(_database_names)}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.create_tables()
    yield db
    db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def our_keys() -> list[PublicKey]:
    """Alice's vault: add keys to this list to give her more identities."""
    return [ALICE.public_key]


@pytest.fixture
def vault(database: Database, clock: FakeClock, our_keys: list[PublicKey]) -> VaultService:
    return VaultService(database, lambda: our_keys, clock=clock)


@pytest.fixture
def record(database: Database, vault: VaultService) -> Callable[..., VaultUpdate]:
    """Record transactions in one unit of work and return the vault update."""

    def record_(*stxs: SignedTransaction) -> VaultUpdate:
        return database.write_sync(lambda session: vault.record_transactions(session, stxs))

    return record_


@pytest.fixture
def query(database: Database, vault: VaultService) -> Callable[..., Page]:
    """Query the vault in a read: query(criteria=None, paging=None, sort=None)."""

    def query_(criteria=None, paging=None, sort=None) -> Page:
        return database.read_sync(lambda session: vault.query_in(session, criteria, paging, sort))

    return query_
