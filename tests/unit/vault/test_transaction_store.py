"""The transaction store: idempotent recording that merges signatures, lookup, listing, count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dlt.ledger import SignedTransaction
from dlt.vault import (
    PageSpecification,
    count_transactions,
    list_transactions,
    load_transaction,
    store_transaction,
    store_transactions,
)
from fixtures.ledger import ALICE, BOB
from fixtures.vault import issuance, move, outputs_of

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_stored_transaction_loads_by_id_with_its_signatures(database):
    stx = issuance(ALICE, 10)

    database.write_sync(lambda s: store_transaction(s, stx, T0))

    loaded = database.read_sync(lambda s: load_transaction(s, stx.id))
    assert loaded == stx
    assert loaded.sigs == stx.sigs


def test_an_unknown_id_loads_nothing(database):
    missing = issuance(ALICE, 10).id

    assert database.read_sync(lambda s: load_transaction(s, missing)) is None


def test_storing_a_known_transaction_again_merges_the_new_signatures(database):
    issued = issuance(ALICE, 10)
    spend = move(outputs_of(issued), [(BOB, 10)], signers=[ALICE])
    signed_by_alice_only = SignedTransaction(spend.tx, [spend.sigs[0]])
    database.write_sync(lambda s: store_transaction(s, signed_by_alice_only, T0))

    was_new = database.write_sync(lambda s: store_transaction(s, spend, T0))

    assert was_new is False
    loaded = database.read_sync(lambda s: load_transaction(s, spend.id))
    assert set(loaded.sigs) == set(spend.sigs)
    assert database.read_sync(count_transactions) == 1


def test_storing_a_batch_returns_only_the_ids_that_were_new(database):
    known, fresh = issuance(ALICE, 1), issuance(ALICE, 2)
    database.write_sync(lambda s: store_transaction(s, known, T0))

    new_ids = database.write_sync(lambda s: store_transactions(s, [known, fresh, fresh], T0))

    assert new_ids == (fresh.id,)
    assert database.read_sync(count_transactions) == 2


def test_transactions_are_listed_oldest_first_one_page_at_a_time(database):
    stxs = [issuance(ALICE, amount) for amount in (1, 2, 3, 4, 5)]
    for minute, stx in enumerate(stxs):
        database.write_sync(
            lambda s, stx=stx, m=minute: store_transaction(s, stx, T0 + timedelta(minutes=m))
        )

    first = database.read_sync(lambda s: list_transactions(s, PageSpecification(1, 2)))
    last = database.read_sync(lambda s: list_transactions(s, PageSpecification(3, 2)))

    assert first == tuple(stxs[:2])
    assert last == (stxs[4],)
