"""A vault query's text, as an RPC caller sends it, becomes the vault's criteria and sort.

Parsing is pure: parties come from the resolver given, so no node or database is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

import fixtures.token_schema  # noqa: F401 - registers TokenState's custom columns
from dlt.identity import Party
from dlt.rpc.generated import node_pb2
from dlt.rpc.server.convert import timestamp
from dlt.rpc.server.criteria import query_criteria
from dlt.rpc.server.errors import Refusal
from dlt.vault import (
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Operator,
    Sort,
    SortKey,
    StandardColumn,
    StateStatus,
    VaultQueryCriteria,
    VaultQueryError,
)
from dlt.vault.query import AndCriteria
from fixtures.ledger import ALICE, BOB, NOTARY
from fixtures.vault import NoteState
from sample_cordapp import TokenState

TOKEN = "test.TokenState"
NOTE = "test.vault.NoteState"
KNOWN = {str(identity.party.name): identity.party for identity in (ALICE, BOB, NOTARY)}


def resolve(name: str, role: str) -> Party:
    """The test network's parties by name; anyone else is refused, as a node would."""
    party = KNOWN.get(name)
    if party is None:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"{role} {name!r} is not known")
    return party


def parse(**fields):
    return query_criteria(node_pb2.VaultQueryRequest(**fields), resolve)


def condition(column: str, operator: str, value: str = "", **fields) -> CustomColumnCriteria:
    """The one column condition parsed from a query of TokenState alone."""
    criteria, _ = parse(
        state_types=[TOKEN],
        conditions=[node_pb2.ColumnCondition(column=column, operator=operator, value=value)],
        **fields,
    )
    assert isinstance(criteria, AndCriteria)
    _standard, custom = criteria.parts
    assert isinstance(custom, CustomColumnCriteria)
    return custom


def refusal(**fields) -> str:
    with pytest.raises(Refusal) as refused:
        parse(**fields)
    assert refused.value.code is grpc.StatusCode.INVALID_ARGUMENT
    return refused.value.message


def test_an_empty_request_asks_for_unconsumed_states_unsorted():
    assert parse() == (VaultQueryCriteria(status=StateStatus.UNCONSUMED), Sort(()))


def test_each_protocol_status_becomes_the_vaults():
    statuses = {
        node_pb2.STATE_STATUS_UNCONSUMED: StateStatus.UNCONSUMED,
        node_pb2.STATE_STATUS_CONSUMED: StateStatus.CONSUMED,
        node_pb2.STATE_STATUS_ALL: StateStatus.ALL,
    }

    parsed = {sent: parse(status=sent)[0].status for sent in statuses}

    assert parsed == statuses


def test_state_type_names_become_their_registered_classes():
    criteria, _ = parse(state_types=[TOKEN, NOTE])

    assert criteria.state_types == (TokenState, NoteState)


def test_an_unregistered_state_type_is_refused_by_name():
    assert "'test.Nothing'" in refusal(state_types=["test.Nothing"])


def test_a_registered_type_that_is_not_a_state_is_refused():
    assert refusal(state_types=["StateRef"]) == "'StateRef' is not a state type"


def test_participants_and_notaries_are_resolved_in_their_roles():
    criteria, _ = parse(participants=[str(ALICE.party.name)], notaries=[str(NOTARY.party.name)])

    assert criteria.participants == (ALICE.party,)
    assert criteria.notary == (NOTARY.party,)
    assert "notary 'O=Nobody, L=Nowhere, C=GB'" in refusal(notaries=["O=Nobody, L=Nowhere, C=GB"])


def test_recorded_bounds_become_aware_datetimes():
    after = datetime(2024, 5, 1, 12, tzinfo=UTC)
    before = datetime(2024, 6, 1, tzinfo=UTC)

    criteria, _ = parse(recorded_after=timestamp(after), recorded_before=timestamp(before))

    assert (criteria.recorded_after, criteria.recorded_before) == (after, before)


def test_a_condition_joins_the_standard_criteria_with_its_value_in_the_columns_type():
    criteria, _ = parse(
        state_types=[TOKEN],
        conditions=[node_pb2.ColumnCondition(column="amount", operator=">=", value="10")],
    )

    assert criteria == AndCriteria(
        (
            VaultQueryCriteria(state_types=(TokenState,)),
            CustomColumnCriteria(TokenState, "amount", Operator.GE, 10),
        )
    )


def test_operators_are_read_case_and_space_insensitively():
    assert condition("issuer", " LIKE ", "O=Grid%").operator is Operator.LIKE


def test_like_keeps_its_pattern_as_text():
    assert condition("amount", "like", "1%").value == "1%"


def test_between_and_in_take_a_comma_separated_list_converted_item_by_item():
    assert condition("amount", "between", " 6, 25 ").value == (6, 25)
    assert condition("amount", "in", "1,,2").value == (1, 2)


def test_in_takes_a_json_array_whose_non_text_items_are_read_as_json():
    assert condition("issuer", "in", '["O=A, L=B, C=GB", 7]').value == ("O=A, L=B, C=GB", "7")
    assert condition("amount", "in", "[1, 2]").value == (1, 2)


def test_a_list_that_opens_as_json_but_is_not_an_array_is_refused():
    with pytest.raises(Refusal, match="is not a JSON array"):
        condition("amount", "in", "[1, 2")


def test_is_null_takes_yes_or_no_words_and_defaults_to_true():
    flags = {text: condition("owner_name", "is_null", text).value for text in ("", "yes", "0")}

    assert flags == {"": True, "yes": True, "0": False}
    with pytest.raises(Refusal, match="'is_null' on 'owner_name' takes true or false"):
        condition("owner_name", "is_null", "maybe")


def test_a_value_not_of_the_columns_type_is_refused_naming_column_and_type():
    with pytest.raises(Refusal, match=r"column 'amount' holds int values; 'lots' is not one"):
        condition("amount", ">", "lots")


def test_an_unknown_operator_is_refused_listing_the_operators():
    with pytest.raises(Refusal, match=r"operator '~' is not one of == != < <= > >= in between"):
        condition("amount", "~", "1")


def test_an_unknown_column_is_refused_by_the_vault_listing_the_columns():
    with pytest.raises(VaultQueryError, match=r"no custom column 'colour'.*amount"):
        condition("colour", "==", "red")


def test_a_custom_column_needs_exactly_one_state_type_or_a_qualified_name():
    unqualified = node_pb2.ColumnCondition(column="amount", operator=">", value="1")
    qualified = node_pb2.ColumnCondition(column=f"{TOKEN}.amount", operator=">", value="1")
    explicit = node_pb2.ColumnCondition(state_type=TOKEN, column="amount", operator=">", value="1")

    message = refusal(state_types=[TOKEN, NOTE], conditions=[unqualified])
    by_name, _ = parse(state_types=[TOKEN, NOTE], conditions=[qualified])
    by_field, _ = parse(conditions=[explicit])

    assert "query exactly one state type or name it as <state type>.<column>" in message
    assert by_name.parts[1] == CustomColumnCriteria(TokenState, "amount", Operator.GT, 1)
    assert by_field.parts[1] == CustomColumnCriteria(TokenState, "amount", Operator.GT, 1)


def test_sort_keys_name_standard_columns_or_the_queried_types_columns():
    _, sort = parse(
        state_types=[TOKEN],
        sort=[
            node_pb2.SortKey(column="recorded_at", descending=True),
            node_pb2.SortKey(column="amount"),
        ],
    )

    assert sort == Sort(
        (
            SortKey(StandardColumn.RECORDED_AT, Direction.DESC),
            SortKey(CustomColumn(TokenState, "amount"), Direction.ASC),
        )
    )


def test_a_custom_sort_key_over_several_state_types_needs_a_qualified_name():
    _, sort = parse(state_types=[TOKEN, NOTE], sort=[node_pb2.SortKey(column=f"{TOKEN}.amount")])

    assert sort.keys == (SortKey(CustomColumn(TokenState, "amount")),)
    assert "query exactly one state type" in refusal(
        state_types=[TOKEN, NOTE], sort=[node_pb2.SortKey(column="amount")]
    )
