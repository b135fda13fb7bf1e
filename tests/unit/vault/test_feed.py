"""The live feed: committed updates only, after the commit, filtered by criteria."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dlt.vault import (
    CustomColumnCriteria,
    VaultFeed,
    VaultFeedOverflowError,
    VaultQueryCriteria,
    VaultService,
)
from fixtures.ledger import ALICE, BOB
from fixtures.vault import NoteState, issuance, move, note, outputs_of
from sample_cordapp import TokenState

QUIET = 0.2
"""How long to listen before concluding that nothing is coming."""


async def assert_nothing_arrives(subscription):
    with pytest.raises(TimeoutError):
        await subscription.next(timeout=QUIET)


def amounts(states):
    return sorted(sar.state.data.amount for sar in states)


async def test_a_subscriber_receives_what_a_recording_produced_and_consumed(vault):
    subscription = vault.track()
    issued = issuance(ALICE, 10)
    await vault.record([issued])
    spend = move(outputs_of(issued), [(BOB, 10)], signers=[ALICE])

    update = await vault.record([spend])

    assert (await subscription.next(timeout=5)).produced == tuple(outputs_of(issued))
    received = await subscription.next(timeout=5)
    assert received == update
    assert received.consumed == tuple(outputs_of(issued))


async def test_nothing_is_published_until_the_unit_of_work_commits(vault, database):
    subscription = vault.track()
    recorded, release = threading.Event(), threading.Event()

    def work(session):
        update = vault.record_transactions(session, [issuance(ALICE, 10)])
        recorded.set()
        release.wait(10)
        return update

    writing = asyncio.ensure_future(database.write(work))
    assert await asyncio.to_thread(recorded.wait, 10)
    await assert_nothing_arrives(subscription)
    release.set()
    update = await writing

    assert await subscription.next(timeout=5) == update


async def test_a_unit_of_work_that_fails_after_recording_publishes_nothing(vault, database):
    subscription = vault.track()

    def work(session):
        vault.record_transactions(session, [issuance(ALICE, 10)])
        raise RuntimeError("the flow failed after recording")

    with pytest.raises(RuntimeError):
        await database.write(work)

    await assert_nothing_arrives(subscription)


async def test_a_failing_neighbour_in_the_same_commit_does_not_hide_an_update(vault, database):
    subscription = vault.track()
    started, gate = threading.Event(), threading.Event()
    blocker = database.submit(lambda session: (started.set(), gate.wait(10)))
    await asyncio.to_thread(started.wait, 10)

    def failing(session):
        vault.record_transactions(session, [issuance(ALICE, 1)])
        raise RuntimeError("rolled back")

    # Both are queued while the writer is busy, so they commit together in the next batch.
    good = database.submit(lambda session: vault.record_transactions(session, [issuance(ALICE, 2)]))
    bad = database.submit(failing)
    gate.set()

    await asyncio.wrap_future(blocker)
    update = await asyncio.wrap_future(good)
    with pytest.raises(RuntimeError):
        await asyncio.wrap_future(bad)
    assert await subscription.next(timeout=5) == update
    await assert_nothing_arrives(subscription)


async def test_a_subscriber_tracking_one_state_type_sees_only_that_type(vault):
    notes = vault.track(VaultQueryCriteria(state_types=(NoteState,)))

    await vault.record([issuance(ALICE, 10)])
    await vault.record([note(ALICE, BOB)])

    received = await notes.next(timeout=5)
    assert [type(sar.state.data) for sar in received.produced] == [NoteState]
    await assert_nothing_arrives(notes)


async def test_a_subscriber_can_filter_on_custom_columns(vault):
    big = vault.track(CustomColumnCriteria(TokenState, "amount", ">=", 50))

    await vault.record([issuance(ALICE, 10, 60, 70)])

    assert amounts((await big.next(timeout=5)).produced) == [60, 70]


async def test_closing_a_subscription_ends_its_iteration(vault):
    subscription = vault.track()
    await vault.record([issuance(ALICE, 10)])
    subscription.close()

    received = [update async for update in subscription]

    assert [amounts(update.produced) for update in received] == [[10]]
    assert vault.feed.subscriber_count == 0


async def test_a_subscriber_that_falls_behind_is_told_it_missed_updates(database, our_keys):
    vault = VaultService(database, lambda: our_keys, feed=VaultFeed(max_pending=2))
    subscription = vault.track()
    for amount in (1, 2, 3):
        await vault.record([issuance(ALICE, amount)])
    await asyncio.sleep(0.05)

    assert amounts((await subscription.next(timeout=5)).produced) == [1]
    assert amounts((await subscription.next(timeout=5)).produced) == [2]
    with pytest.raises(VaultFeedOverflowError, match="query the vault again"):
        await subscription.next(timeout=5)
