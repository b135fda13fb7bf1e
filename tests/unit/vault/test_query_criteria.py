"""Standard query criteria and their combinations with & and |."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dlt.vault import (
    CustomColumnCriteria,
    SoftLocking,
    StateStatus,
    VaultQueryCriteria,
    VaultQueryError,
)
from fixtures.ledger import ALICE, BOB, NOTARY
from fixtures.vault import OTHER_NOTARY, NoteState, issuance, move, note, outputs_of
from sample_cordapp import TokenState


def amounts(page):
    return sorted(sar.state.data.amount for sar in page.states)


@pytest.fixture
def spent_and_unspent(record):
    """Alice holds 10 and 20; she spent 30 (to Bob)."""
    record(issuance(ALICE, 10, 20))
    spent = issuance(ALICE, 30)
    record(spent)
    record(move(outputs_of(spent), [(BOB, 30)], signers=[ALICE]))


def test_queries_return_unconsumed_states_by_default(spent_and_unspent, query):
    assert amounts(query()) == [10, 20]


def test_status_consumed_returns_only_consumed_states(spent_and_unspent, query):
    assert amounts(query(VaultQueryCriteria(status=StateStatus.CONSUMED))) == [30]


def test_status_all_returns_both(spent_and_unspent, query):
    assert amounts(query(VaultQueryCriteria(status=StateStatus.ALL))) == [10, 20, 30]


def test_state_types_select_states_of_those_types(record, query):
    record(issuance(ALICE, 10), note(ALICE, BOB))

    notes = query(VaultQueryCriteria(state_types=(NoteState,)))
    tokens = query(VaultQueryCriteria(state_types=(TokenState,)))

    assert [type(sar.state.data) for sar in notes.states] == [NoteState]
    assert amounts(tokens) == [10]


def test_participants_select_states_any_of_those_parties_share(record, query):
    record(issuance(ALICE, 10), note(ALICE, BOB))

    with_bob = query(VaultQueryCriteria(participants=(BOB.party,)))
    with_alice_key = query(VaultQueryCriteria(participants=(ALICE.public_key,)))

    assert [type(sar.state.data) for sar in with_bob.states] == [NoteState]
    assert with_alice_key.total_states_available == 2


def test_notary_selects_states_under_that_notary(record, query):
    record(issuance(ALICE, 10, notary=NOTARY), issuance(ALICE, 20, notary=OTHER_NOTARY))

    assert amounts(query(VaultQueryCriteria(notary=(OTHER_NOTARY.party,)))) == [20]


def test_recorded_time_range_includes_its_start_and_excludes_its_end(record, query, clock):
    times: list[datetime] = []
    for amount in (1, 2, 3):
        times.append(clock.advance(60))
        record(issuance(ALICE, amount))

    page = query(VaultQueryCriteria(recorded_after=times[1], recorded_before=times[2]))

    assert amounts(page) == [2]
    assert page.metadata[0].recorded_at == times[1]


def test_consumed_time_range_selects_states_spent_in_it(record, query, clock):
    first, second = issuance(ALICE, 1), issuance(ALICE, 2)
    record(first, second)
    clock.advance(60)
    record(move(outputs_of(first), [(BOB, 1)], signers=[ALICE]))
    cutoff = clock.advance(60)
    record(move(outputs_of(second), [(BOB, 2)], signers=[ALICE]))

    early = query(VaultQueryCriteria(status=StateStatus.ALL, consumed_before=cutoff))
    late = query(VaultQueryCriteria(status=StateStatus.ALL, consumed_after=cutoff))

    assert amounts(early) == [1]
    assert amounts(late) == [2]


def test_refs_select_exactly_those_states(record, query):
    stx = issuance(ALICE, 1, 2, 3)
    record(stx)
    wanted = outputs_of(stx)[1]

    assert query(VaultQueryCriteria(refs=(wanted.ref,))).states == (wanted,)


def test_soft_locking_conditions_split_locked_from_unlocked_states(record, query, database, vault):
    stx = issuance(ALICE, 1, 2, 3)
    record(stx)
    one, two, _ = outputs_of(stx)
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-a", [one.ref]))
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-b", [two.ref]))

    unlocked = query(VaultQueryCriteria(soft_locking=SoftLocking.UNLOCKED_ONLY))
    by_a = query(VaultQueryCriteria(soft_locking=SoftLocking.locked_only("flow-a")))
    by_anyone = query(VaultQueryCriteria(soft_locking=SoftLocking.locked_only()))

    assert amounts(unlocked) == [3]
    assert amounts(by_a) == [1]
    assert amounts(by_anyone) == [1, 2]


def test_and_requires_both_criteria(record, query):
    record(issuance(ALICE, 10, notary=NOTARY), issuance(ALICE, 20, notary=OTHER_NOTARY))
    record(note(ALICE, BOB))

    page = query(
        VaultQueryCriteria(state_types=(TokenState,)) & VaultQueryCriteria(notary=(NOTARY.party,))
    )

    assert amounts(page) == [10]


def test_or_accepts_either_criteria(record, query):
    record(issuance(ALICE, 10, notary=NOTARY), issuance(ALICE, 20, notary=OTHER_NOTARY))
    record(note(ALICE, BOB))

    page = query(
        VaultQueryCriteria(state_types=(NoteState,))
        | VaultQueryCriteria(notary=(OTHER_NOTARY.party,))
    )

    assert sorted(type(s.state.data).__name__ for s in page.states) == ["NoteState", "TokenState"]


def test_standard_and_custom_criteria_combine(spent_and_unspent, query):
    consumed = VaultQueryCriteria(status=StateStatus.CONSUMED)
    small = CustomColumnCriteria(TokenState, "amount", "<", 15)

    assert amounts(query(consumed | small)) == [10, 30]


def test_custom_criteria_alone_see_only_unconsumed_states(spent_and_unspent, query):
    assert amounts(query(CustomColumnCriteria(TokenState, "amount", ">", 0))) == [10, 20]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"recorded_after": datetime(2030, 1, 1)}, "timezone-aware"),
        ({"state_types": (int,)}, "not a registered ledger type"),
        ({"status": "spent"}, "status must be one of"),
    ],
    ids=["naive-time", "unregistered-type", "unknown-status"],
)
def test_invalid_criteria_are_rejected_when_written(arguments, message):
    with pytest.raises(VaultQueryError, match=message):
        VaultQueryCriteria(**arguments)


def test_an_empty_time_range_is_rejected(clock):
    with pytest.raises(VaultQueryError, match="must be before"):
        VaultQueryCriteria(recorded_after=clock.now, recorded_before=clock.now - timedelta(1))
