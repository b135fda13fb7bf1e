"""Attachments in SQL: round trips, merged signatures, listing, and use from worker threads."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlt.ledger import Attachment
from dlt.vault import (
    DatabaseError,
    PageSpecification,
    SqlAttachmentStorage,
    attachment_store,
    count_attachments,
    load_attachment,
    store_attachment,
)
from dlt.vault.schema import attachments
from fixtures.ledger import ALICE, BOB


@pytest.fixture
def storage(database, clock):
    return SqlAttachmentStorage(database, clock=clock)


def test_an_imported_attachment_opens_with_its_content_and_signers(storage):
    attachment = Attachment(b"price bounds: 0..500").signed_by(ALICE.key)

    attachment_id = storage.import_attachment(attachment)

    opened = storage.open_attachment(attachment_id)
    assert opened.data == attachment.data
    assert opened.signers == {ALICE.public_key}


def test_an_unknown_attachment_opens_as_nothing(storage):
    assert storage.open_attachment(Attachment(b"never stored").id) is None


def test_importing_the_same_bytes_again_merges_the_signatures(storage):
    storage.import_attachment(Attachment(b"trading hours").signed_by(ALICE.key))

    attachment_id = storage.import_attachment(Attachment(b"trading hours").signed_by(BOB.key))

    assert storage.open_attachment(attachment_id).signers == {ALICE.public_key, BOB.public_key}
    assert storage.count() == 1


def test_attachments_are_listed_oldest_first_with_their_details(storage, clock):
    first = storage.import_attachment(Attachment(b"one"), uploader="alice", filename="one.txt")
    clock.advance(1)
    second = storage.import_attachment(Attachment(b"second").signed_by(BOB.key))

    page_one = storage.list_attachments(PageSpecification(1, 1))
    page_two = storage.list_attachments(PageSpecification(2, 1))

    assert [(info.id, info.size, info.uploader, info.filename) for info in page_one] == [
        (first, 3, "alice", "one.txt")
    ]
    assert [(info.id, info.signers) for info in page_two] == [(second, {BOB.public_key})]


def test_an_attachment_stored_in_a_unit_of_work_is_visible_within_it(database, clock):
    attachment = Attachment(b"rules")

    def work(session):
        store_attachment(session, attachment, uploaded_at=clock.now)
        return load_attachment(session, attachment.id), count_attachments(session)

    assert database.write_sync(work) == (attachment, 1)


def test_the_thread_api_refuses_to_wait_for_itself_inside_a_unit_of_work(database, storage):
    with pytest.raises(DatabaseError, match="would wait for itself forever"):
        database.write_sync(lambda session: storage.import_attachment(Attachment(b"x")))


def test_an_attachment_loaded_in_a_unit_of_work_is_served_from_the_cache_afterwards(
    storage, database
):
    attachment_id = storage.import_attachment(Attachment(b"cached rules").signed_by(ALICE.key))

    first = database.write_sync(lambda s: load_attachment(s, attachment_id))
    second = database.write_sync(lambda s: load_attachment(s, attachment_id))

    assert second is first
    assert storage.open_attachment(attachment_id) is first


def test_merged_signatures_replace_the_cached_copy(storage, database):
    attachment_id = storage.import_attachment(Attachment(b"merged later").signed_by(ALICE.key))
    database.write_sync(lambda s: load_attachment(s, attachment_id))

    storage.import_attachment(Attachment(b"merged later").signed_by(BOB.key))

    assert database.write_sync(lambda s: load_attachment(s, attachment_id)).signers == {
        ALICE.public_key,
        BOB.public_key,
    }


def test_an_attachment_stored_by_a_unit_of_work_that_fails_is_not_cached(database):
    attachment = Attachment(b"rolled back")

    def store_then_fail(session):
        store_attachment(session, attachment)
        assert load_attachment(session, attachment.id) is not None
        raise RuntimeError("the unit of work fails after loading what it stored")

    with pytest.raises(RuntimeError, match="fails after loading"):
        database.write_sync(store_then_fail)

    assert database.write_sync(lambda s: load_attachment(s, attachment.id)) is None


def test_an_attachment_a_reader_loaded_is_served_from_the_cache_afterwards(storage, database):
    attachment_id = storage.import_attachment(Attachment(b"contract code").signed_by(ALICE.key))

    first = database.read_sync(lambda s: load_attachment(s, attachment_id))

    assert database.read_sync(lambda s: load_attachment(s, attachment_id)) is first


def test_a_read_that_began_before_signatures_were_merged_does_not_cache_the_old_ones(
    storage, database
):
    attachment_id = storage.import_attachment(Attachment(b"rules v1").signed_by(ALICE.key))
    with Session(database.engine) as early:
        early.execute(select(attachments.c.id)).all()  # its snapshot starts here
        storage.import_attachment(Attachment(b"rules v1").signed_by(BOB.key))  # committed

        seen_early = load_attachment(early, attachment_id)

    expected = {ALICE.public_key, BOB.public_key}
    if database.is_sqlite:  # a snapshot reader; PostgreSQL's statements see the commit
        assert seen_early.signers == {ALICE.public_key}
    assert database.read_sync(lambda s: load_attachment(s, attachment_id)).signers == expected
    assert storage.open_attachment(attachment_id).signers == expected


def test_a_reader_does_not_cache_an_attachment_whose_change_is_not_committed(storage, database):
    attachment_id = storage.import_attachment(Attachment(b"limits").signed_by(ALICE.key))
    seen_during = []

    def merge_while_a_reader_loads(session):
        store_attachment(session, Attachment(b"limits").signed_by(BOB.key))
        seen_during.append(database.read_sync(lambda s: load_attachment(s, attachment_id)))

    database.write_sync(merge_while_a_reader_loads)

    assert seen_during[0].signers == {ALICE.public_key}  # the merge was not committed yet
    assert storage.open_attachment(attachment_id).signers == {ALICE.public_key, BOB.public_key}


def test_past_the_tracked_changes_readers_stop_caching_and_still_read_right(
    storage, database, monkeypatch
):
    monkeypatch.setattr(attachment_store, "TRACKED_CHANGES", 2)
    contents = [f"rules {n}".encode() for n in range(3)]
    ids = [storage.import_attachment(Attachment(c).signed_by(ALICE.key)) for c in contents]
    for content in contents:  # three changes: one more than the cache follows
        storage.import_attachment(Attachment(content).signed_by(BOB.key))

    first = database.read_sync(lambda s: load_attachment(s, ids[0]))

    assert first.signers == {ALICE.public_key, BOB.public_key}
    assert database.read_sync(lambda s: load_attachment(s, ids[0])) is not first
