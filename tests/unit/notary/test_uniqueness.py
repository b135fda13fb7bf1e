"""The uniqueness store: atomic, idempotent, first-come-first-served, and durable."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dlt.flows.library.notary_protocol import Conflict, ConsumedStateKind, TimeWindowInvalid
from dlt.vault.database import Database, sqlite_url
from fixtures.sqlite_work import STEP, steps_of
from notary.uniqueness import Committed, SqlUniquenessProvider, UniquenessResult

from .conftest import OpenDatabase
from .support import (
    CLOSED_AN_HOUR_AGO,
    NOW,
    WITHIN_AN_HOUR,
    fixed_clock,
    make_tx,
    state,
    uniqueness_request,
)


def commit(provider: SqlUniquenessProvider, *txs) -> list[UniquenessResult]:
    requests = [uniqueness_request(tx) for tx in txs]
    return asyncio.run(provider.commit_many(requests, fixed_clock))


def test_committing_a_transaction_consumes_its_inputs(provider):
    tx = make_tx([state(1), state(2)])

    [result] = commit(provider, tx)

    assert result == Committed(tx.id, NOW, already_committed=False)
    consumers = asyncio.run(provider.consuming_transactions([state(1), state(2), state(3)]))
    assert consumers == {state(1): tx.id, state(2): tx.id}


def test_committing_the_same_transaction_again_succeeds_without_change(provider):
    tx = make_tx([state(1)])
    commit(provider, tx)

    [again] = commit(provider, tx)

    assert again == Committed(tx.id, NOW, already_committed=True)


def test_a_double_spend_lists_every_consumed_input_with_its_consuming_transaction(provider):
    first, second = make_tx([state(1)]), make_tx([state(2)])
    commit(provider, first, second)
    spender = make_tx([state(1), state(2), state(3)])

    [result] = commit(provider, spender)

    assert isinstance(result, Conflict)
    assert result.tx_id == spender.id
    assert {ref: d.consuming_tx_id for ref, d in result.consumed_states.items()} == {
        state(1): first.id,
        state(2): second.id,
    }
    assert {d.kind for d in result.consumed.values()} == {ConsumedStateKind.INPUT}


def test_a_transaction_with_one_consumed_input_consumes_none_of_the_others(provider):
    commit(provider, make_tx([state(1)]))

    commit(provider, make_tx([state(1), state(2)]))

    assert asyncio.run(provider.consuming_transactions([state(2)])) == {}
    later = make_tx([state(2)])
    assert commit(provider, later)[0] == Committed(later.id, NOW, already_committed=False)


def test_a_consumed_reference_is_a_conflict_of_kind_reference(provider):
    spender = make_tx([state(1)])
    commit(provider, spender)
    referrer = make_tx([state(2)], references=[state(1)])

    [result] = commit(provider, referrer)

    assert isinstance(result, Conflict)
    details = result.consumed_states[state(1)]
    assert details.consuming_tx_id == spender.id
    assert details.kind is ConsumedStateKind.REFERENCE
    assert asyncio.run(provider.consuming_transactions([state(2)])) == {}


def test_referencing_a_state_does_not_consume_it(provider):
    commit(provider, make_tx([state(2)], references=[state(1)]))

    spender = make_tx([state(1)])

    assert commit(provider, spender)[0] == Committed(spender.id, NOW, already_committed=False)


def test_a_time_window_that_has_closed_is_refused_and_consumes_nothing(provider):
    tx = make_tx([state(1)], time_window=CLOSED_AN_HOUR_AGO)

    [result] = commit(provider, tx)

    assert result == TimeWindowInvalid(current_time=NOW, window=CLOSED_AN_HOUR_AGO)
    assert asyncio.run(provider.consuming_transactions([state(1)])) == {}


def test_a_time_window_containing_the_notary_time_is_accepted(provider):
    tx = make_tx([state(1)], time_window=WITHIN_AN_HOUR)

    assert commit(provider, tx)[0] == Committed(tx.id, NOW, already_committed=False)


def test_a_committed_transaction_is_confirmed_again_after_its_window_closes(provider):
    tx = make_tx([state(1)], time_window=WITHIN_AN_HOUR)
    commit(provider, tx)
    two_hours_later = NOW + timedelta(hours=2)

    [again] = asyncio.run(provider.commit_many([uniqueness_request(tx)], lambda: two_hours_later))

    assert again == Committed(tx.id, NOW, already_committed=True)


def test_in_one_batch_the_first_of_two_conflicting_requests_wins(provider):
    first, second = make_tx([state(1)]), make_tx([state(1), state(2)])

    results = commit(provider, first, second)

    assert results[0] == Committed(first.id, NOW, already_committed=False)
    assert isinstance(results[1], Conflict)
    assert results[1].consumed_states[state(1)].consuming_tx_id == first.id


def test_a_commit_inside_a_unit_of_work_rolls_back_with_it(db, provider):
    tx = make_tx([state(1)])

    def work_that_fails(session: Session) -> None:
        request = uniqueness_request(tx)
        provider.commit(
            session, tx.id, request.inputs, request.references, None, NOW, request.requester
        )
        raise RuntimeError("the rest of the unit of work failed")

    with pytest.raises(RuntimeError):
        db.write_sync(work_that_fails)

    assert asyncio.run(provider.consuming_transactions([state(1)])) == {}


def test_consumed_states_survive_a_restart(open_database: OpenDatabase):
    first_run = open_database()
    spender = make_tx([state(1)])
    commit(SqlUniquenessProvider(first_run), spender)
    first_run.close()

    restarted = SqlUniquenessProvider(open_database())
    [result] = commit(restarted, make_tx([state(1)]))

    assert isinstance(result, Conflict)
    assert result.consumed_states[state(1)].consuming_tx_id == spender.id


def test_writers_in_two_processes_racing_for_one_state_commit_exactly_one(
    open_database: OpenDatabase,
):
    providers = [SqlUniquenessProvider(open_database()) for _ in range(2)]
    contenders = [make_tx([state(1), state(100 + n)]) for n in range(20)]

    async def race() -> list[UniquenessResult]:
        return await asyncio.gather(
            *(
                providers[n % 2].commit_many([uniqueness_request(tx)], fixed_clock)
                for n, tx in enumerate(contenders)
            )
        )

    results = [result for batch in asyncio.run(race()) for result in batch]

    winners = [r for r in results if isinstance(r, Committed)]
    assert len(winners) == 1
    assert all(
        r.consumed_states[state(1)].consuming_tx_id == winners[0].tx_id
        for r in results
        if isinstance(r, Conflict)
    )


def test_two_transactions_each_referencing_what_the_other_spends_cannot_both_commit(
    open_database: OpenDatabase,
):
    providers = [SqlUniquenessProvider(open_database()) for _ in range(2)]
    a = make_tx([state(1)], references=[state(2)])
    b = make_tx([state(2)], references=[state(1)])

    async def race() -> list[list[UniquenessResult]]:
        return await asyncio.gather(
            providers[0].commit_many([uniqueness_request(a)], fixed_clock),
            providers[1].commit_many([uniqueness_request(b)], fixed_clock),
        )

    results = [result for batch in asyncio.run(race()) for result in batch]

    assert sorted(type(r).__name__ for r in results) == ["Committed", "Conflict"]


def test_a_clock_without_a_time_zone_is_refused(db: Database, provider):
    tx = make_tx([state(1)])

    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(
            provider.commit_many([uniqueness_request(tx)], lambda: NOW.replace(tzinfo=None))
        )


def test_checking_a_request_costs_the_same_however_many_states_were_consumed(tmp_path):
    """The conflict check searches the consumed states by key: a notary's thousandth
    commit costs what its first did (a row-value IN alone scanned the whole table)."""
    db = Database(sqlite_url(tmp_path / "notary.db"), sqlite_synchronous="NORMAL")
    provider = SqlUniquenessProvider(db)
    numbered = itertools.count()

    def spends(count: int) -> list:
        return [make_tx([state(next(numbered)), state(next(numbered))]) for _ in range(count)]

    def one_commit() -> int:
        tx = make_tx([state(next(numbered)), state(next(numbered))])
        return steps_of(db.engine, lambda: commit(provider, tx))

    commit(provider, *spends(100))
    few = one_commit()
    for _ in range(10):
        commit(provider, *spends(100))
    many = one_commit()
    db.close()

    assert many <= few * 1.1 + 2 * STEP, (few, many)
