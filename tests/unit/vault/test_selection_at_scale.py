"""Selection among many states: a query that pins a custom column reads the rows it pins,
not every unconsumed state of the type (issue 12's vault scale: 10^5 coins of another
currency made each trade's coin selection scan them all).

Work is counted in SQLite virtual-machine steps (a progress handler), which depend only on
the data and the plan, never on the machine's speed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from dlt.testing import test_identity
from dlt.vault import (
    CustomColumnCriteria,
    Database,
    Operator,
    VaultQueryCriteria,
    VaultService,
    sqlite_url,
)
from fixtures.ledger import ALICE, BOB, ISSUER
from fixtures.sqlite_work import STEP, steps_of
from fixtures.vault import issuance, move, outputs_of
from sample_cordapp import TokenState

OTHER_BANK = test_identity("O=Other Bank, L=Paris, C=FR")
FROM_ISSUER = VaultQueryCriteria(state_types=(TokenState,)) & CustomColumnCriteria(
    TokenState, "issuer", Operator.EQ, str(ISSUER.party.name)
)


def _enough(amount: int) -> Callable[[list], bool]:
    return lambda picked: sum(sar.state.data.amount for sar in picked) >= amount


def _steps(database: Database, work: Callable[[Session], object]) -> int:
    """The VM steps of `work` run in a read (its writes, a lock, are rolled back)."""
    return steps_of(database.engine, lambda: database.read_sync(work))


def _other_coins(record, count: int) -> None:
    for _ in range(count // 250):
        record(issuance(ALICE, *([1] * 250), issuer=OTHER_BANK))


@pytest.fixture
def sqlite_database(tmp_path) -> Database:
    db = Database(sqlite_url(tmp_path / "vault.db"))
    db.create_tables()
    yield db
    db.close()


@pytest.fixture
def sqlite_vault(sqlite_database, clock) -> VaultService:
    return VaultService(sqlite_database, lambda: [ALICE.public_key], clock=clock)


@pytest.fixture
def sqlite_record(sqlite_database, sqlite_vault):
    return lambda *stxs: sqlite_database.write_sync(
        lambda s: sqlite_vault.record_transactions(s, stxs)
    )


def test_selection_pinned_to_a_column_value_costs_the_same_among_many_other_states(
    sqlite_database, sqlite_vault, sqlite_record
):
    sqlite_record(issuance(ALICE, 5, 7, 9))

    def select(session: Session) -> None:
        picked = sqlite_vault.select_and_lock(session, "flow-1", FROM_ISSUER, enough=_enough(12))
        assert sorted(sar.state.data.amount for sar in picked) in ([5, 7], [5, 9], [7, 9])

    _other_coins(sqlite_record, 500)
    few = _steps(sqlite_database, select)
    _other_coins(sqlite_record, 2_000)
    many = _steps(sqlite_database, select)

    assert many <= few * 1.1 + 2 * STEP, (few, many)


def test_a_query_pinned_to_a_column_value_counts_only_its_rows_among_many(
    sqlite_database, sqlite_vault, sqlite_record
):
    sqlite_record(issuance(ALICE, 5, 7, 9))
    query = lambda s: sqlite_vault.query_in(s, FROM_ISSUER)  # noqa: E731

    _other_coins(sqlite_record, 500)
    few = _steps(sqlite_database, query)
    _other_coins(sqlite_record, 2_000)
    many = _steps(sqlite_database, query)

    assert sqlite_database.read_sync(query).total_states_available == 3
    assert many <= few * 1.1 + 2 * STEP, (few, many)


def test_a_vault_made_before_an_index_was_declared_gains_it(tmp_path):
    url = sqlite_url(tmp_path / "vault.db")
    db = Database(url)
    db.create_tables()
    with db.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_test_token_states_issuer"))
    db.create_tables()

    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("test_token_states")}
    db.close()
    assert "ix_test_token_states_issuer" in indexes


def test_recording_a_spend_costs_the_same_among_many_other_states(sqlite_database, sqlite_record):
    issued = issuance(ALICE, 3, 4)
    sqlite_record(issued)
    coins = outputs_of(issued)

    def spend(index: int) -> int:
        tx = move([coins[index]], [(BOB, coins[index].state.data.amount)], [ALICE])
        return steps_of(sqlite_database.engine, lambda: sqlite_record(tx))

    _other_coins(sqlite_record, 500)
    few = spend(0)
    _other_coins(sqlite_record, 2_000)
    many = spend(1)

    assert many <= few * 1.1 + 2 * STEP, (few, many)
