"""The energy flows' selections (money of a currency, energy of a window) are served by one
index lookup on the CorDapp's own table, however many other states the vault holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from cordapp_energy.flows.common import energy_criteria, payment_criteria
from cordapp_energy.states import DeliveryWindow, EnergyType
from dlt.vault import Database, SoftLocking, VaultQueryCriteria, sqlite_url
from dlt.vault.query_sql import build_select

START = datetime(2030, 1, 1, 12, tzinfo=UTC)
WINDOW = DeliveryWindow(start=START, end=START + timedelta(minutes=15))


@pytest.fixture
def database(tmp_path):
    db = Database(sqlite_url(tmp_path / "vault.db"))
    db.create_tables()
    yield db
    db.close()


def _plan(database: Database, criteria) -> list[str]:
    locking = VaultQueryCriteria(soft_locking=SoftLocking.unlocked_or("flow-1"))
    query, _ = build_select(criteria & locking, None, "sqlite")
    compiled = query.compile(database.engine, compile_kwargs={"literal_binds": True})
    with database.engine.connect() as connection:
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return [row[3] for row in rows]


def test_coin_selection_starts_from_the_owner_and_currency_index(database):
    plan = _plan(database, payment_criteria("a" * 64, "EUR"))

    assert plan[0].startswith("SEARCH energy_payment_states USING INDEX")
    assert "(owner_key=? AND currency=?)" in plan[0]
    assert plan[1].startswith("SEARCH states USING INDEX sqlite_autoindex_states_1")


def test_energy_selection_starts_from_the_owner_type_and_window_index(database):
    plan = _plan(database, energy_criteria("a" * 64, EnergyType.SOLAR, WINDOW))

    assert plan[0].startswith("SEARCH energy_states USING INDEX")
    assert "(owner_key=? AND energy_type=? AND window_start=?)" in plan[0]
    assert plan[1].startswith("SEARCH states USING INDEX sqlite_autoindex_states_1")
