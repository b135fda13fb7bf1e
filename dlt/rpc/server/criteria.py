"""A vault query's text (state type names, column conditions, sort keys) as the vault's
`QueryCriteria` and `Sort`.

Pure parsing: parties are resolved by the function the caller passes. Anything that does not
name a state type, a column of its schema, an operator or a value of the column's type is
refused with INVALID_ARGUMENT saying which one and what it takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import grpc

from dlt.encoding import DecodingError, registered_type
from dlt.identity import Party
from dlt.ledger import ContractState
from dlt.rpc.generated import node_pb2
from dlt.rpc.server.convert import to_datetime
from dlt.rpc.server.errors import Refusal
from dlt.vault import (
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Operator,
    QueryCriteria,
    Sort,
    SortKey,
    StandardColumn,
    StateStatus,
    VaultQueryCriteria,
)
from dlt.vault.custom_schemas import require_schema

ResolveParty = Callable[[str, str], Party]
"""The party named by its X.500 name (text) in a role ("participant", "notary"), or a Refusal."""

STATE_STATUSES: dict[int, StateStatus] = {
    node_pb2.STATE_STATUS_UNSPECIFIED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_UNCONSUMED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_CONSUMED: StateStatus.CONSUMED,
    node_pb2.STATE_STATUS_ALL: StateStatus.ALL,
}


def query_criteria(
    request: node_pb2.VaultQueryRequest, party: ResolveParty
) -> tuple[QueryCriteria, Sort]:
    """The vault's criteria and sort for the request; bad names and values are refused
    with INVALID_ARGUMENT saying which one."""
    state_types = tuple(state_type(name) for name in request.state_types)
    criteria: QueryCriteria = VaultQueryCriteria(
        status=STATE_STATUSES.get(request.status, StateStatus.UNCONSUMED),
        state_types=state_types,
        participants=tuple(party(name, "participant") for name in request.participants),
        notary=tuple(party(name, "notary") for name in request.notaries),
        recorded_after=(
            to_datetime(request.recorded_after) if request.HasField("recorded_after") else None
        ),
        recorded_before=(
            to_datetime(request.recorded_before) if request.HasField("recorded_before") else None
        ),
    )
    for condition in request.conditions:
        criteria = criteria & column_condition(condition, state_types)
    keys = [sort_key(key, state_types) for key in request.sort]
    return criteria, Sort(tuple(keys))


def state_type(name: str) -> type[ContractState]:
    """The registered state class called `name`."""
    try:
        cls = registered_type(name)
    except DecodingError as exc:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
    if not (isinstance(cls, type) and issubclass(cls, ContractState)):
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"{name!r} is not a state type")
    return cls


def column_condition(
    condition: node_pb2.ColumnCondition, state_types: Sequence[type[ContractState]]
) -> CustomColumnCriteria:
    """`column operator value` on a custom schema column, the value converted to its type."""
    type_name, column = (
        (condition.state_type, condition.column)
        if condition.state_type
        else _split_column(condition.column, state_types)
    )
    owner = _one_state_type(type_name, state_types, column)
    python_type = _python_type(owner, column)
    try:
        operator = Operator(condition.operator.strip().lower())
    except ValueError:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"operator {condition.operator!r} is not one of {' '.join(o.value for o in Operator)}",
        ) from None
    value = column_value(operator, condition.value, python_type, column)
    return CustomColumnCriteria(owner, column, operator, value)


def column_value(operator: Operator, text: str, python_type: type, column: str) -> Any:
    """The condition's value, given as text, converted to what the column holds."""
    if operator is Operator.IS_NULL:
        flag = text.strip().lower()
        if flag in ("", "true", "yes", "1"):
            return True
        if flag in ("false", "no", "0"):
            return False
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"'is_null' on {column!r} takes true or false, got {text!r}",
        )
    if operator in (Operator.IN, Operator.BETWEEN):
        return tuple(_convert(item, python_type, column) for item in _list_value(text))
    if operator is Operator.LIKE:
        return text
    return _convert(text, python_type, column)


def sort_key(key: node_pb2.SortKey, state_types: Sequence[type[ContractState]]) -> SortKey:
    """A standard column by its name, else a custom column of the queried state type."""
    direction = Direction.DESC if key.descending else Direction.ASC
    if key.column in {c.value for c in StandardColumn}:
        return SortKey(StandardColumn(key.column), direction)
    type_name, column = _split_column(key.column, state_types)
    return SortKey(CustomColumn(_one_state_type(type_name, state_types, column), column), direction)


def _one_state_type(
    explicit: str, state_types: Sequence[type[ContractState]], column: str
) -> type[ContractState]:
    if explicit:
        return state_type(explicit)
    if len(state_types) == 1:
        return state_types[0]
    raise Refusal(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"column {column!r} belongs to a state type's schema: query exactly one state type "
        "or name it as <state type>.<column>",
    )


def _split_column(text: str, state_types: Sequence[type[ContractState]]) -> tuple[str, str]:
    """("", column) or (state type, column) from "column" or "<state type>.<column>"."""
    if "." in text and len(state_types) != 1:
        type_name, _, column = text.rpartition(".")
        return type_name, column
    return "", text


def _python_type(owner: type[ContractState], column: str) -> type:
    sql_column = require_schema(owner).column(column)
    try:
        return sql_column.type.python_type
    except NotImplementedError:
        return str


def _list_value(text: str) -> list[str]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise Refusal(
                grpc.StatusCode.INVALID_ARGUMENT, f"{text!r} is not a JSON array: {exc}"
            ) from exc
        if not isinstance(items, list):
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"{text!r} is not a JSON array")
        return [item if isinstance(item, str) else json.dumps(item) for item in items]
    return [item.strip() for item in stripped.split(",") if item.strip()]


def _convert(text: str, python_type: type, column: str) -> Any:
    try:
        if python_type is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError("expected true or false")
            return lowered == "true"
        if python_type is int:
            return int(text)
        if python_type is float:
            return float(text)
        if python_type is datetime:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError("give a time zone, e.g. 2024-05-01T12:00:00+00:00")
            return moment
    except ValueError as exc:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"column {column!r} holds {python_type.__name__} values; {text!r} is not one ({exc})",
        ) from None
    return text
