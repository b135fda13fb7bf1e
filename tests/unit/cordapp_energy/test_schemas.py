"""Vault columns of the energy states: what they hold, and querying them in a real vault."""

from __future__ import annotations

import pytest

from cordapp_energy import (
    BID_SCHEMA,
    ENERGY_SCHEMA,
    OFFER_SCHEMA,
    PAYMENT_SCHEMA,
    EnergyState,
    EnergyType,
    Request,
)
from dlt.vault import CustomColumnCriteria, Database, VaultService, sqlite_url

from .support import (
    BANK,
    CONSUMER,
    NOON,
    OPERATOR,
    PRODUCER,
    bid,
    builder,
    energy,
    money,
    offer,
    sign,
)


def test_energy_columns_hold_the_fields_flows_select_on():
    values = ENERGY_SCHEMA.values(energy(4_000, owner=CONSUMER, price_per_kwh=12))

    assert values == {
        "energy_type": "solar",
        "quantity_wh": 4_000,
        "price_per_kwh": 12,
        "currency": "GBP",
        "window_start": NOON.start,
        "window_end": NOON.end,
        "issuer_name": str(PRODUCER.name),
        "owner_name": str(CONSUMER.name),
        "owner_key": str(CONSUMER.public_key.fingerprint),
    }


def test_an_anonymous_owner_has_a_key_but_no_name():
    state = energy().with_new_owner(CONSUMER.party.anonymise())

    values = ENERGY_SCHEMA.values(state)

    assert values["owner_name"] is None
    assert values["owner_key"] == str(CONSUMER.public_key.fingerprint)


def test_payment_columns_hold_currency_amount_and_issuer():
    values = PAYMENT_SCHEMA.values(money(250, CONSUMER.party))

    assert {k: values[k] for k in ("currency", "amount", "issuer_name")} == {
        "currency": "GBP",
        "amount": 250,
        "issuer_name": str(BANK.name),
    }


@pytest.mark.parametrize("schema, order", [(BID_SCHEMA, bid(1_500, 22)), (OFFER_SCHEMA, offer())])
def test_order_columns_hold_the_order_book_fields(schema, order):
    values = schema.values(order)

    assert values["kind"] == order.kind
    assert values["linear_id"] == order.linear_id.id
    assert values["window_start"] == NOON.start
    assert values["max_quantity_wh"] == order.max_quantity_wh
    assert values["limit_price_per_kwh"] == order.limit_price_per_kwh
    assert values["energy_type"] == "solar"
    assert values["owner_name"] == str(order.owner.name)
    assert values["market_operator_name"] == str(OPERATOR.name)


def test_vault_finds_energy_by_type_and_quantity(tmp_path):
    database = Database(sqlite_url(tmp_path / "vault.db"))
    database.create_tables()
    vault = VaultService(database, lambda: [PRODUCER.public_key])
    issued = [
        energy(1_000),
        energy(5_000),
        energy(8_000, energy_type=EnergyType.WIND, price_per_kwh=10),
    ]
    stxs = [
        sign(builder().add_output_state(s).add_command(Request(), PRODUCER.public_key))
        for s in issued
    ]
    database.write_sync(lambda session: vault.record_transactions(session, stxs))

    def query(criteria: CustomColumnCriteria) -> list[int]:
        page = database.read_sync(lambda session: vault.query_in(session, criteria))
        return sorted(sar.state.data.quantity_wh for sar in page.states)

    try:
        assert query(CustomColumnCriteria(EnergyState, "energy_type", "==", "solar")) == [
            1_000,
            5_000,
        ]
        assert query(CustomColumnCriteria(EnergyState, "quantity_wh", ">=", 5_000)) == [
            5_000,
            8_000,
        ]
        assert query(CustomColumnCriteria(EnergyState, "window_start", "==", NOON.start)) == [
            1_000,
            5_000,
            8_000,
        ]
    finally:
        database.close()
