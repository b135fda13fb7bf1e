"""Recording transactions: which states the vault tracks, and when it marks them consumed."""

from __future__ import annotations

from dlt.crypto.composite import CompositeKey
from dlt.identity import AnonymousParty
from dlt.testing import test_identity
from dlt.vault import StateStatus, VaultQueryCriteria, count_transactions, load_transaction
from fixtures.ledger import ALICE, BOB
from fixtures.vault import issuance, move, outputs_of

ALL = VaultQueryCriteria(status=StateStatus.ALL)


def amounts(page):
    return sorted(sar.state.data.amount for sar in page.states)


def test_an_issuance_to_us_is_tracked_as_unconsumed_states(record, query):
    stx = issuance(ALICE, 10, 20)

    update = record(stx)

    assert update.produced == tuple(outputs_of(stx))
    assert update.consumed == ()
    page = query()
    assert page.states == tuple(outputs_of(stx))
    assert {meta.status for meta in page.metadata} == {StateStatus.UNCONSUMED}


def test_spending_our_state_marks_it_consumed_by_the_spending_transaction(record, query, clock):
    issued = issuance(ALICE, 100)
    record(issued)
    coins = outputs_of(issued)
    spend = move(coins, [(BOB, 100)], signers=[ALICE])
    spent_at = clock.advance(60)

    update = record(spend)

    assert update.consumed == tuple(coins)
    assert update.produced == ()
    page = query(VaultQueryCriteria(status=StateStatus.CONSUMED))
    assert page.states == tuple(coins)
    meta = page.metadata[0]
    assert meta.consumed_at == spent_at
    assert meta.consuming_tx == spend.id


def test_states_of_other_parties_are_not_tracked_but_their_transaction_is_stored(
    record, query, database
):
    stx = issuance(BOB, 50)

    update = record(stx)

    assert update.is_empty
    assert query(ALL).total_states_available == 0
    assert database.read_sync(lambda s: load_transaction(s, stx.id)) == stx


def test_a_transfer_to_someone_else_tracks_only_what_comes_back_to_us(record, query):
    issued = issuance(ALICE, 100)
    record(issued)
    spend = move(outputs_of(issued), [(BOB, 70), (ALICE, 30)], signers=[ALICE])

    update = record(spend)

    assert [sar.state.data.amount for sar in update.produced] == [30]
    assert amounts(query()) == [30]


def test_a_state_owned_by_one_of_our_confidential_keys_is_tracked(record, query, our_keys):
    confidential = test_identity("O=Alice Confidential, L=Leeds, C=GB").public_key
    our_keys.append(confidential)

    record(issuance(AnonymousParty(owning_key=confidential), 5))

    assert amounts(query()) == [5]


def test_a_state_owned_by_a_composite_key_with_one_of_our_leaf_keys_is_tracked(record, query):
    shared = CompositeKey.build([ALICE.public_key, BOB.public_key], threshold=1)

    record(issuance(AnonymousParty(owning_key=shared), 7))

    assert amounts(query()) == [7]


def test_recording_a_transaction_twice_tracks_its_states_once(record, query, database):
    stx = issuance(ALICE, 10)
    record(stx)

    again = record(stx)

    assert again.is_empty
    assert query(ALL).total_states_available == 1
    assert database.read_sync(count_transactions) == 1


def test_recording_an_already_spent_input_again_does_not_consume_it_twice(record, clock, query):
    issued = issuance(ALICE, 10)
    record(issued)
    spend = move(outputs_of(issued), [(BOB, 10)], signers=[ALICE])
    first_consumed_at = clock.now
    record(spend)
    clock.advance(60)

    again = record(spend)

    assert again.is_empty
    assert query(VaultQueryCriteria(status=StateStatus.CONSUMED)).metadata[0].consumed_at == (
        first_consumed_at
    )


def test_a_chain_recorded_in_one_batch_produces_and_consumes_the_middle_state(record, query):
    issued = issuance(ALICE, 10)
    to_alice_again = move(outputs_of(issued), [(ALICE, 10)], signers=[ALICE])

    update = record(to_alice_again, issued)

    assert set(update.produced) == set(outputs_of(issued) + outputs_of(to_alice_again))
    assert update.consumed == tuple(outputs_of(issued))
    assert query().states == tuple(outputs_of(to_alice_again))


def test_spending_a_soft_locked_state_releases_its_lock(record, query, database, vault):
    issued = issuance(ALICE, 10)
    record(issued)
    coins = outputs_of(issued)
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))

    record(move(coins, [(BOB, 10)], signers=[ALICE]))

    assert query(ALL).metadata[0].lock_id is None


async def test_the_async_api_records_and_queries_in_units_of_work_of_its_own(vault):
    stx = issuance(ALICE, 10, 20)

    update = await vault.record([stx])
    page = await vault.query(VaultQueryCriteria(refs=(update.produced[1].ref,)))

    assert amounts(page) == [20]
