"""Soft locks and coin selection: two flows never get the same states."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from dlt.vault import (
    CustomColumn,
    Database,
    Direction,
    InsufficientStatesError,
    SoftLocking,
    Sort,
    SortKey,
    StatesNotAvailableError,
    VaultQueryCriteria,
    VaultQueryError,
    VaultService,
    soft_locks,
)
from fixtures.ledger import ALICE, BOB
from fixtures.vault import issuance, move, outputs_of
from sample_cordapp import TokenState

TOKENS = VaultQueryCriteria(state_types=(TokenState,))


def amounts(states):
    return [sar.state.data.amount for sar in states]


def total_at_least(amount):
    return lambda picked: sum(amounts(picked)) >= amount


@pytest.fixture
def coins(record):
    """Alice's coins of 1, 2, 3, 4 and 5."""
    stx = issuance(ALICE, 1, 2, 3, 4, 5)
    record(stx)
    return outputs_of(stx)


def locked_by(query, lock_id):
    return amounts(query(VaultQueryCriteria(soft_locking=SoftLocking.locked_only(lock_id))).states)


def test_reserved_states_are_no_longer_unlocked(coins, database, vault, query):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [c.ref for c in coins[:2]]))

    assert locked_by(query, "flow-1") == [1, 2]
    unlocked = query(VaultQueryCriteria(soft_locking=SoftLocking.UNLOCKED_ONLY))
    assert sorted(amounts(unlocked.states)) == [3, 4, 5]


def test_the_same_lock_id_may_reserve_its_states_again(coins, database, vault, query):
    refs = [coins[0].ref]
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", refs))

    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", refs))

    assert locked_by(query, "flow-1") == [1]


def test_states_locked_by_another_flow_cannot_be_reserved_and_nothing_is_locked(
    coins, database, vault, query
):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))

    with pytest.raises(StatesNotAvailableError, match=f"{coins[0].ref} is soft-locked by 'flow-1'"):
        database.write_sync(
            lambda s: vault.soft_lock_reserve(s, "flow-2", [coins[1].ref, coins[0].ref])
        )
    assert locked_by(query, "flow-2") == []


def test_a_failed_reservation_leaves_the_rest_of_the_unit_of_work_intact(
    coins, database, vault, query
):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))

    def work(session):
        vault.soft_lock_reserve(session, "flow-2", [coins[1].ref])
        with pytest.raises(StatesNotAvailableError):
            vault.soft_lock_reserve(session, "flow-2", [coins[2].ref, coins[0].ref])

    database.write_sync(work)

    assert locked_by(query, "flow-2") == [2]


def test_consumed_states_cannot_be_reserved(coins, record, database, vault):
    record(move(coins[:1], [(BOB, 1)], signers=[ALICE]))

    with pytest.raises(StatesNotAvailableError, match=f"already consumed: {coins[0].ref}"):
        database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))


def test_states_not_in_the_vault_cannot_be_reserved(database, vault):
    stranger = outputs_of(issuance(BOB, 1))[0].ref

    with pytest.raises(StatesNotAvailableError, match=f"not in this vault: {stranger}"):
        database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [stranger]))


def test_releasing_a_lock_id_frees_all_its_states(coins, database, vault, query):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [c.ref for c in coins]))

    released = database.write_sync(lambda s: vault.soft_lock_release(s, "flow-1"))

    assert released == 5
    assert locked_by(query, None) == []


def test_releasing_chosen_states_frees_only_those(coins, database, vault, query):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [c.ref for c in coins]))

    database.write_sync(lambda s: vault.soft_lock_release(s, "flow-1", [coins[0].ref]))

    assert locked_by(query, "flow-1") == [2, 3, 4, 5]


def test_another_lock_id_cannot_release_a_lock(coins, database, vault, query):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))

    released = database.write_sync(lambda s: vault.soft_lock_release(s, "flow-2"))

    assert released == 0
    assert locked_by(query, "flow-1") == [1]


def test_selection_picks_states_in_sort_order_until_enough_and_locks_them(
    coins, database, vault, query
):
    biggest_first = Sort.by(SortKey(CustomColumn(TokenState, "amount"), Direction.DESC))

    picked = database.write_sync(
        lambda s: vault.select_and_lock(
            s, "flow-1", TOKENS, sort=biggest_first, enough=total_at_least(8)
        )
    )

    assert amounts(picked) == [5, 4]
    assert locked_by(query, "flow-1") == [4, 5]


def test_selection_skips_states_locked_by_other_flows(coins, database, vault):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[0].ref]))
    smallest_first = Sort.by(CustomColumn(TokenState, "amount"))

    picked = database.write_sync(
        lambda s: vault.select_and_lock(s, "flow-2", TOKENS, sort=smallest_first, limit=2)
    )

    assert amounts(picked) == [2, 3]


def test_selection_without_enough_states_fails_and_locks_nothing(coins, database, vault, query):
    database.write_sync(lambda s: vault.soft_lock_reserve(s, "flow-1", [coins[4].ref]))

    with pytest.raises(InsufficientStatesError) as caught:
        database.write_sync(
            lambda s: vault.select_and_lock(s, "flow-2", TOKENS, enough=total_at_least(15))
        )

    assert caught.value.selected == 4
    assert "only 4 unlocked, unconsumed states match" in str(caught.value)
    assert "1 more matching states are soft-locked by other flows" in str(caught.value)
    assert locked_by(query, "flow-2") == []


def test_selection_reports_when_the_limit_is_what_falls_short(coins, database, vault):
    with pytest.raises(InsufficientStatesError, match="the 2 states allowed by the limit"):
        database.write_sync(
            lambda s: vault.select_and_lock(s, "flow-1", TOKENS, limit=2, enough=total_at_least(15))
        )


def test_selection_needs_a_limit_or_an_enough_predicate(database, vault):
    with pytest.raises(VaultQueryError, match="needs a limit, an enough predicate, or both"):
        database.write_sync(lambda s: vault.select_and_lock(s, "flow-1", TOKENS))


async def test_concurrent_units_of_work_select_disjoint_states(record, database, vault):
    stx = issuance(ALICE, *range(1, 21))
    record(stx)

    def select(lock_id):
        return lambda s: vault.select_and_lock(s, lock_id, TOKENS, limit=4)

    selections = await asyncio.gather(*(database.write(select(f"flow-{n}")) for n in range(5)))

    refs = [sar.ref for picked in selections for sar in picked]
    assert len(refs) == 20
    assert set(refs) == {sar.ref for sar in outputs_of(stx)}


def test_two_processes_selecting_at_once_never_share_a_state(
    record, database_url, database, clock, our_keys
):
    # Spare states: on PostgreSQL a selector may briefly row-lock a state it does not keep.
    record(issuance(ALICE, *range(1, 61)))
    second = Database(database_url)
    nodes = [(db, VaultService(db, lambda: our_keys, clock=clock)) for db in (database, second)]

    def slowly_enough(picked):
        time.sleep(0.002)
        return len(picked) == 5

    def select(index):
        db, vault = nodes[index % 2]
        return db.write_sync(
            lambda s: vault.select_and_lock(s, f"flow-{index}", TOKENS, enough=slowly_enough)
        )

    try:
        with ThreadPoolExecutor(8) as pool:
            selections = list(pool.map(select, range(8)))
    finally:
        second.close()

    refs = [sar.ref for picked in selections for sar in picked]
    assert len(refs) == 40
    assert len(set(refs)) == 40


def _fresh_tokens() -> VaultQueryCriteria:
    """Criteria no other test selected with (a moment of its own), so its statement is new."""
    return VaultQueryCriteria(
        state_types=(TokenState,), recorded_after=datetime(2000, 1, 1, tzinfo=UTC)
    )


def test_flows_selecting_alike_share_one_statement_and_each_locks_its_own(
    coins, database, vault, query, monkeypatch
):
    built = []
    real = soft_locks.build_select
    monkeypatch.setattr(soft_locks, "build_select", lambda *a: built.append(a) or real(*a))
    criteria = _fresh_tokens()

    picks = [
        database.write_sync(lambda s, f=flow: vault.select_and_lock(s, f, criteria, limit=2))
        for flow in ("flow-1", "flow-2")
    ]

    assert len(built) == 1
    assert sorted(amounts(picks[0] + picks[1])) == [1, 2, 3, 4]
    assert sorted(locked_by(query, "flow-1")) == sorted(amounts(picks[0]))
    assert sorted(locked_by(query, "flow-2")) == sorted(amounts(picks[1]))


def test_a_flow_selecting_again_gets_its_own_locked_states_back_from_the_shared_statement(
    coins, database, vault
):
    criteria = _fresh_tokens()
    first = database.write_sync(lambda s: vault.select_and_lock(s, "flow-1", criteria, limit=5))
    with pytest.raises(InsufficientStatesError):
        database.write_sync(lambda s: vault.select_and_lock(s, "flow-2", criteria, limit=1))

    again = database.write_sync(lambda s: vault.select_and_lock(s, "flow-1", criteria, limit=5))

    assert sorted(amounts(again)) == sorted(amounts(first)) == [1, 2, 3, 4, 5]
