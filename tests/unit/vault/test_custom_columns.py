"""Custom schemas: CorDapp-declared columns, filled on recording, filtered and sorted on."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, select

from dlt.identity import AnonymousParty
from dlt.testing import test_identity
from dlt.vault import (
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Sort,
    SortKey,
    StateSchemaError,
    VaultQueryError,
    register_state_schema,
)
from fixtures.ledger import ALICE, BOB
from fixtures.token_schema import TOKEN_SCHEMA
from fixtures.vault import NoteState, issuance, note
from sample_cordapp import TokenState


def amounts(page):
    return [sar.state.data.amount for sar in page.states]


@pytest.fixture
def tokens(record):
    """10, 20, 30 from Grid Bank to Alice; 40 to Alice's anonymous key; 50 issued by Bob."""
    record(issuance(ALICE, 10, 20, 30))
    record(issuance(AnonymousParty(owning_key=ALICE.public_key), 40))
    record(issuance(ALICE, 50, issuer=BOB))
    record(note(ALICE, BOB))


def test_recording_a_state_fills_its_custom_columns(tokens, database):
    rows = database.read_sync(
        lambda s: s.execute(
            select(TOKEN_SCHEMA.table.c.amount, TOKEN_SCHEMA.table.c.owner_name).order_by(
                TOKEN_SCHEMA.table.c.amount
            )
        ).all()
    )

    assert [tuple(row) for row in rows] == [
        (10, str(ALICE.name)),
        (20, str(ALICE.name)),
        (30, str(ALICE.name)),
        (40, None),
        (50, str(ALICE.name)),
    ]


@pytest.mark.parametrize(
    "column, operator, value, expected",
    [
        ("amount", "==", 20, [20]),
        ("amount", "!=", 20, [10, 30, 40, 50]),
        ("amount", "<", 30, [10, 20]),
        ("amount", "<=", 30, [10, 20, 30]),
        ("amount", ">", 30, [40, 50]),
        ("amount", ">=", 30, [30, 40, 50]),
        ("amount", "in", (10, 50, 99), [10, 50]),
        ("amount", "between", (20, 40), [20, 30, 40]),
        ("issuer", "like", "%Grid%", [10, 20, 30, 40]),
        ("issuer", "like", "%grid%", []),
        ("issuer", "like", "O=Bob_Home%", [50]),
        ("owner_name", "is_null", True, [40]),
        ("owner_name", "is_null", False, [10, 20, 30, 50]),
    ],
)
def test_each_operator_filters_on_a_custom_column(tokens, query, column, operator, value, expected):
    page = query(CustomColumnCriteria(TokenState, column, operator, value))

    assert sorted(amounts(page)) == expected


def test_like_treats_escaped_wildcards_literally(record, query):
    record(issuance(ALICE, 1, issuer=test_identity("O=100% Green_Power, L=Bath, C=GB")))
    record(issuance(ALICE, 2, issuer=test_identity("O=100x Green Power, L=Bath, C=GB")))

    page = query(CustomColumnCriteria(TokenState, "issuer", "like", r"O=100\% Green\_Power%"))

    assert amounts(page) == [1]


def test_custom_criteria_never_match_states_of_other_types(tokens, query):
    page = query(CustomColumnCriteria(TokenState, "owner_name", "is_null", True))

    assert all(isinstance(sar.state.data, TokenState) for sar in page.states)
    assert amounts(page) == [40]


@pytest.mark.parametrize(
    "direction, expected", [("asc", [10, 20, 30, 40, 50]), ("desc", [50, 40, 30, 20, 10])]
)
def test_states_sort_by_a_custom_column(tokens, query, direction, expected):
    sort = Sort.by(SortKey(CustomColumn(TokenState, "amount"), Direction(direction)))

    page = query(CustomColumnCriteria(TokenState, "amount", ">", 0), sort=sort)

    assert amounts(page) == expected


def test_a_sort_on_a_nullable_custom_column_puts_missing_values_last(tokens, query):
    sort = Sort.by(SortKey(CustomColumn(TokenState, "owner_name"), Direction.DESC))

    page = query(CustomColumnCriteria(TokenState, "amount", ">", 0), sort=sort)

    assert amounts(page)[-1] == 40


def test_an_undeclared_column_is_rejected_naming_the_declared_ones():
    with pytest.raises(VaultQueryError, match=r"has no custom column 'price'.*amount, issuer"):
        CustomColumnCriteria(TokenState, "price", "==", 1)


def test_a_state_type_without_a_schema_cannot_be_queried_by_column():
    with pytest.raises(VaultQueryError, match="NoteState has no custom schema"):
        CustomColumnCriteria(NoteState, "text", "==", "hello")


@pytest.mark.parametrize(
    "operator, value, message",
    [
        ("~", 1, "operator must be one of"),
        ("in", (), "at least one value"),
        ("in", 5, "collection"),
        ("between", (1,), r"\(low, high\) pair"),
        ("like", 5, "string pattern"),
        ("like", "trailing\\", "lone backslash"),
        ("==", None, "use 'is_null'"),
    ],
)
def test_malformed_custom_criteria_are_rejected_when_written(operator, value, message):
    with pytest.raises(VaultQueryError, match=message):
        CustomColumnCriteria(TokenState, "amount", operator, value)


@pytest.mark.parametrize(
    "table, columns, message",
    [
        ("Bad-Name", {"x": Integer}, "table name"),
        ("note_states", {"Text": String(10)}, "column name"),
        ("note_states", {"txhash": String(64)}, "reserved"),
        ("note_states", {}, "declares no columns"),
        ("states", {"text": String(10)}, "already taken"),
    ],
)
def test_malformed_schemas_are_rejected_when_declared(table, columns, message):
    with pytest.raises(StateSchemaError, match=message):
        register_state_schema(NoteState, table, columns=columns, extract=lambda s: {})


def test_a_state_type_cannot_have_two_different_schemas():
    with pytest.raises(StateSchemaError, match="already has schema"):
        register_state_schema(
            TokenState, "other_token_states", columns={"amount": Integer}, extract=lambda s: {}
        )
