"""A batch of uniqueness requests answers exactly what committing them one by one would, in a
number of statements that does not grow with the batch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from dlt.crypto import SecureHash
from dlt.flows.library.notary_protocol import Conflict, ConsumedStateKind
from dlt.vault.database import Database, sqlite_url
from fixtures.ledger import ALICE
from notary.uniqueness import (
    Committed,
    SqlUniquenessProvider,
    UniquenessRequest,
    UniquenessResult,
)

from .support import CLOSED_AN_HOUR_AGO, NOW, fixed_clock, state


def request(
    name: str, inputs: list[int], references: list[int] = (), closed: bool = False
) -> UniquenessRequest:
    return UniquenessRequest(
        tx_id=SecureHash.sha256(name.encode()),
        inputs=tuple(state(n) for n in inputs),
        references=tuple(state(n) for n in references),
        time_window=CLOSED_AN_HOUR_AGO if closed else None,
        requester=ALICE.party,
    )


def commit_many(provider: SqlUniquenessProvider, *requests: UniquenessRequest) -> list[Any]:
    return asyncio.run(provider.commit_many(list(requests), fixed_clock))


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_batch_of_forty_runs_the_statements_of_a_batch_of_one(db, provider):
    with counting_statements(db.engine) as alone:
        commit_many(provider, request("alone", [0, 1]))
    batch = [request(f"tx {n}", [10 + 2 * n, 11 + 2 * n], [5]) for n in range(40)]

    with counting_statements(db.engine) as together:
        results = commit_many(provider, *batch)

    assert all(isinstance(r, Committed) and not r.already_committed for r in results)
    assert len(together) == len(alone), (alone, together)


def test_a_transaction_twice_in_one_batch_is_committed_once_and_confirmed_the_second_time(
    provider,
):
    tx = request("twice", [1])

    first, second = commit_many(provider, tx, tx)

    assert first == Committed(tx.tx_id, NOW, already_committed=False)
    assert second == Committed(tx.tx_id, NOW, already_committed=True)


def test_referencing_a_state_spent_earlier_in_the_batch_is_a_conflict_naming_the_spender(
    provider,
):
    spender, referrer = request("spender", [1]), request("referrer", [2], references=[1])

    spent, refused = commit_many(provider, spender, referrer)

    assert isinstance(spent, Committed)
    assert isinstance(refused, Conflict)
    details = refused.consumed_states[state(1)]
    assert (details.consuming_tx_id, details.kind) == (spender.tx_id, ConsumedStateKind.REFERENCE)
    assert asyncio.run(provider.consuming_transactions([state(2)])) == {}


def test_a_request_refused_in_a_batch_consumes_nothing_for_the_requests_after_it(provider):
    closed = request("closed window", [1], closed=True)
    later = request("later", [1])

    refused, committed = commit_many(provider, closed, later)

    assert not isinstance(refused, Committed)
    assert committed == Committed(later.tx_id, NOW, already_committed=False)


def test_a_row_another_writer_slipped_in_is_reported_as_its_conflict_and_the_rest_commit(
    db, provider
):
    """The primary key is the last line of defence: a writer that bypassed the lock and
    consumed a state between the batch's reads and its writes makes the writes fail; the batch
    then commits request by request and reports that writer's transaction."""
    rogue = SecureHash.sha256(b"a writer that bypassed the lock")
    victim, bystander = request("victim", [1]), request("bystander", [2])
    slipped = [False]

    def slip_in(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SAVEPOINT") and not slipped[0]:
            slipped[0] = True
            conn.exec_driver_sql(
                "INSERT INTO notary_consumed_states (txhash, output_index, consuming_tx_id, "
                "committed_at, requesting_party) VALUES "
                f"('{state(1).txhash}', {state(1).index}, '{rogue}', '2026-06-01 12:00:00', "
                "'rogue')"
            )

    event.listen(db.engine, "before_cursor_execute", slip_in)
    try:
        refused, committed = commit_many(provider, victim, bystander)
    finally:
        event.remove(db.engine, "before_cursor_execute", slip_in)

    assert slipped[0]
    assert isinstance(refused, Conflict)
    assert refused.consumed_states[state(1)].consuming_tx_id == rogue
    assert committed == Committed(bystander.tx_id, NOW, already_committed=False)
    consumers = asyncio.run(provider.consuming_transactions([state(1), state(2)]))
    assert consumers == {state(1): rogue, state(2): bystander.tx_id}


_requests = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.lists(st.integers(0, 7), min_size=0, max_size=3, unique=True),
        st.lists(st.integers(0, 7), max_size=2, unique=True),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(_requests, min_size=1, max_size=3))
def test_batches_answer_what_committing_each_request_alone_answers(tmp_path_factory, batches):
    """Any schedule of batches, with repeats, shared inputs, references and closed windows,
    gets the answers (and leaves the store) that one-request batches do."""
    directory: Path = tmp_path_factory.mktemp("batches")
    batched_db = Database(sqlite_url(directory / "batched.db"), sqlite_synchronous="OFF")
    alone_db = Database(sqlite_url(directory / "alone.db"), sqlite_synchronous="OFF")
    try:
        batched, alone = SqlUniquenessProvider(batched_db), SqlUniquenessProvider(alone_db)
        for batch in batches:
            requests = [
                request(f"tx {name}", inputs, [r for r in references if r not in inputs], closed)
                for name, inputs, references, closed in batch
            ]
            together: list[UniquenessResult] = commit_many(batched, *requests)
            one_by_one = [commit_many(alone, r)[0] for r in requests]
            assert together == one_by_one
        everything = [state(n) for n in range(8)]
        assert asyncio.run(batched.consuming_transactions(everything)) == asyncio.run(
            alone.consuming_transactions(everything)
        )
    finally:
        batched_db.close()
        alone_db.close()
