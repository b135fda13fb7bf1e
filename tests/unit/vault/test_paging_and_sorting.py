"""Pages with totals and a stable order, sorting, and the refusal to truncate silently."""

from __future__ import annotations

import pytest

from dlt.vault import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    CustomColumn,
    Direction,
    PageSpecification,
    Sort,
    SortKey,
    StandardColumn,
    StateStatus,
    VaultQueryCriteria,
    VaultQueryError,
)
from fixtures.ledger import ALICE, BOB
from fixtures.vault import issuance, move, note, outputs_of
from sample_cordapp import TokenState

ALL = VaultQueryCriteria(status=StateStatus.ALL)


def amounts(page):
    return [sar.state.data.amount for sar in page.states]


def test_pages_split_the_results_and_report_the_total(record, query):
    record(issuance(ALICE, *range(1, 8)))

    pages = [query(paging=PageSpecification(number, 3)) for number in (1, 2, 3)]

    assert [len(page.states) for page in pages] == [3, 3, 1]
    assert {page.total_states_available for page in pages} == {7}
    assert sorted(a for page in pages for a in amounts(page)) == list(range(1, 8))
    assert [page.has_next for page in pages] == [True, True, False]


def test_ties_are_broken_by_state_reference_so_pages_never_overlap(record, query):
    stxs = [issuance(ALICE, 1, 2), issuance(ALICE, 3, 4), issuance(ALICE, 5)]
    record(*stxs)
    sort = Sort.by(StandardColumn.RECORDED_AT)

    pages = [query(paging=PageSpecification(n, 2), sort=sort) for n in (1, 2, 3)]

    refs = [sar.ref for page in pages for sar in page.states]
    assert refs == sorted(refs, key=lambda ref: (str(ref.txhash), ref.index))


def test_a_page_past_the_end_is_empty_but_still_reports_the_total(record, query):
    record(issuance(ALICE, 1, 2))

    page = query(paging=PageSpecification(5, 10))

    assert page.states == ()
    assert page.total_states_available == 2


def test_states_sort_by_recorded_time_descending(record, query, clock):
    for amount in (1, 2, 3):
        clock.advance(1)
        record(issuance(ALICE, amount))

    page = query(sort=Sort.by(SortKey(StandardColumn.RECORDED_AT, Direction.DESC)))

    assert amounts(page) == [3, 2, 1]


def test_sorting_by_consumed_time_puts_unconsumed_states_last_in_both_directions(
    record, query, clock
):
    first, second = issuance(ALICE, 1), issuance(ALICE, 2)
    record(first, second, issuance(ALICE, 3))
    clock.advance(1)
    record(move(outputs_of(second), [(BOB, 2)], signers=[ALICE]))
    clock.advance(1)
    record(move(outputs_of(first), [(BOB, 1)], signers=[ALICE]))

    ascending = query(ALL, sort=Sort.by(SortKey(StandardColumn.CONSUMED_AT)))
    descending = query(ALL, sort=Sort.by(SortKey(StandardColumn.CONSUMED_AT, Direction.DESC)))

    assert amounts(ascending) == [2, 1, 3]
    assert amounts(descending) == [1, 2, 3]


def test_sort_keys_apply_in_order(record, query):
    record(issuance(ALICE, 5, 1), note(ALICE, BOB), issuance(ALICE, 3))
    sort = Sort.by(
        SortKey(StandardColumn.STATE_TYPE),  # "test.TokenState" < "test.vault.NoteState"
        SortKey(CustomColumn(TokenState, "amount"), Direction.DESC),
    )

    page = query(sort=sort)

    assert [getattr(sar.state.data, "amount", "note") for sar in page.states] == [
        5,
        3,
        1,
        "note",
    ]


def test_an_unpaged_query_matching_more_than_the_default_page_size_is_refused(record, query):
    record(issuance(ALICE, *range(1, DEFAULT_PAGE_SIZE + 2)))

    with pytest.raises(VaultQueryError, match=r"matches 201 states.*PageSpecification"):
        query()
    assert len(query(paging=PageSpecification(2, DEFAULT_PAGE_SIZE)).states) == 1


def test_an_unpaged_query_may_return_exactly_the_default_page_size(record, query):
    record(issuance(ALICE, *range(1, DEFAULT_PAGE_SIZE + 1)))

    assert len(query().states) == DEFAULT_PAGE_SIZE


@pytest.mark.parametrize(
    "number, size, message",
    [
        (0, 10, "page numbers start at 1"),
        (1, 0, "page size must be from 1"),
        (1, MAX_PAGE_SIZE + 1, "page size must be from 1"),
    ],
)
def test_invalid_page_specifications_are_rejected(number, size, message):
    with pytest.raises(VaultQueryError, match=message):
        PageSpecification(number, size)


def test_an_unknown_sort_column_is_rejected_listing_the_standard_ones():
    with pytest.raises(VaultQueryError, match="standard columns are"):
        SortKey("amount")
