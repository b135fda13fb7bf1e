"""Queryable columns that CorDapps declare for their state types.

A schema is a table keyed by (txhash, output_index), like `states`, filled from a function
of the state whenever a relevant state of that type is recorded. Queries join it to filter
and sort on its columns (`CustomColumnCriteria`, `CustomColumn`). Register schemas at import
time, before `Database.create_tables()`; states recorded before a schema existed get no row.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ForeignKeyConstraint, Index, Integer, String, Table
from sqlalchemy.types import TypeEngine, to_instance

from dlt.encoding import EncodingError, type_name_of
from dlt.ledger import ContractState
from dlt.vault.database import metadata
from dlt.vault.errors import StateSchemaError, VaultQueryError
from dlt.vault.schema import HEX_LENGTH, states

S = TypeVar("S", bound=ContractState)

KEY_COLUMNS = ("txhash", "output_index")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,47}")
_MAX_IDENTIFIER = 63

ColumnType = TypeEngine[Any] | type[TypeEngine[Any]]


@dataclass(frozen=True)
class StateSchema(Generic[S]):
    """The custom table of one state type and how to fill it."""

    state_type: type[S]
    table: Table
    extract: Callable[[S], Mapping[str, Any]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.name not in KEY_COLUMNS)

    def column(self, name: str) -> Column[Any]:
        """The column `name`, or a `VaultQueryError` listing the columns there are."""
        if name in KEY_COLUMNS or name not in self.table.c:
            raise VaultQueryError(
                f"{self.state_type.__name__} has no custom column {name!r}; "
                f"its schema {self.table.name!r} has {', '.join(self.column_names)}"
            )
        return self.table.c[name]

    def values(self, state: S) -> dict[str, Any]:
        """The column values of `state`, checked against the declared columns."""
        try:
            values = dict(self.extract(state))
        except Exception as exc:
            raise StateSchemaError(
                f"the {self.table.name!r} extractor failed on a {self.state_type.__name__}: {exc}"
            ) from exc
        if set(values) != set(self.column_names):
            missing = sorted(set(self.column_names) - set(values))
            extra = sorted(set(values) - set(self.column_names))
            raise StateSchemaError(
                f"the {self.table.name!r} extractor must return exactly the declared columns; "
                f"missing {missing}, undeclared {extra}"
            )
        return values


_schemas: dict[type[ContractState], StateSchema[Any]] = {}
_lock = threading.Lock()


def register_state_schema(
    state_type: type[S],
    table_name: str,
    *,
    columns: Mapping[str, ColumnType],
    extract: Callable[[S], Mapping[str, Any]],
    indexed: Iterable[str] | None = None,
    composite: Iterable[Sequence[str]] = (),
) -> StateSchema[S]:
    """Declare table `table_name` with `columns` for `state_type`, filled by `extract(state)`.

    Every column is indexed unless `indexed` names a subset. `composite` adds an index on
    each listed run of columns: the columns a frequent query (coin selection) asks for
    together, so one index lookup finds its rows among many states of the same type.
    Registering the same table and columns again replaces the extractor; anything else
    already registered is an error.
    """
    try:
        type_name_of(state_type)
    except EncodingError as exc:
        raise StateSchemaError(f"cannot declare a schema: {exc}") from exc
    _check_identifier("table", table_name)
    if not columns:
        raise StateSchemaError(f"schema {table_name!r} declares no columns")
    for name in columns:
        _check_identifier("column", name)
        if name in KEY_COLUMNS:
            raise StateSchemaError(f"column name {name!r} is reserved for the state reference")
    types = {name: to_instance(kind) for name, kind in columns.items()}
    indexed_names = set(columns if indexed is None else indexed)
    if not indexed_names <= set(columns):
        raise StateSchemaError(
            f"cannot index undeclared columns {sorted(indexed_names - set(columns))}"
        )
    runs = [tuple(run) for run in composite]
    for run in runs:
        if len(run) < 2 or len(set(run)) != len(run) or not set(run) <= set(columns):
            raise StateSchemaError(
                f"a composite index needs two or more distinct declared columns, got {list(run)}"
            )
    with _lock:
        existing = _schemas.get(state_type)
        if existing is not None:
            if (
                existing.table.name != table_name
                or _shape(existing.table) != _shape_of(types)
                or _composites(existing.table) != set(runs)
            ):
                raise StateSchemaError(
                    f"{state_type.__name__} already has schema {existing.table.name!r} "
                    "with other columns; a state type has one schema"
                )
            schema = StateSchema(state_type, existing.table, extract)
        else:
            if table_name in metadata.tables:
                raise StateSchemaError(f"table name {table_name!r} is already taken")
            table = _table(table_name, types, indexed_names, runs)
            schema = StateSchema(state_type, table, extract)
        _schemas[state_type] = schema
        return schema


def state_schema(
    state_type: type[S],
    table_name: str,
    *,
    columns: Mapping[str, ColumnType],
    indexed: Iterable[str] | None = None,
) -> Callable[[Callable[[S], Mapping[str, Any]]], Callable[[S], Mapping[str, Any]]]:
    """Decorator form of `register_state_schema` for the extractor function."""

    def register(extract: Callable[[S], Mapping[str, Any]]) -> Callable[[S], Mapping[str, Any]]:
        register_state_schema(
            state_type, table_name, columns=columns, extract=extract, indexed=indexed
        )
        return extract

    return register


def schema_for(state_type: type[ContractState]) -> StateSchema[Any] | None:
    """The schema registered for exactly `state_type`, if any."""
    return _schemas.get(state_type)


def require_schema(state_type: type[ContractState]) -> StateSchema[Any]:
    """The schema of `state_type`, or a `VaultQueryError` saying how to declare one."""
    schema = _schemas.get(state_type)
    if schema is None:
        raise VaultQueryError(
            f"{state_type.__name__} has no custom schema; declare its columns with "
            "register_state_schema before querying them"
        )
    return schema


def _check_identifier(kind: str, name: str) -> None:
    if not _IDENTIFIER.fullmatch(name):
        raise StateSchemaError(
            f"{kind} name {name!r} must be lowercase letters, digits and underscores, "
            "starting with a letter, at most 48 characters"
        )


def _shape(table: Table) -> dict[str, str]:
    return {c.name: repr(c.type) for c in table.columns if c.name not in KEY_COLUMNS}


def _shape_of(types: Mapping[str, TypeEngine[Any]]) -> dict[str, str]:
    return {name: repr(kind) for name, kind in types.items()}


def _composites(table: Table) -> set[tuple[str, ...]]:
    return {
        tuple(c.name for c in index.columns) for index in table.indexes if len(index.columns) > 1
    }


def _index_name(table_name: str, *columns: str) -> str:
    name = f"ix_{table_name}_{'_'.join(columns)}"
    if len(name) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_IDENTIFIER - 9]}_{digest}"


def _table(
    name: str,
    types: Mapping[str, TypeEngine[Any]],
    indexed: set[str],
    composite: Sequence[tuple[str, ...]],
) -> Table:
    return Table(
        name,
        metadata,
        Column("txhash", String(HEX_LENGTH), primary_key=True),
        Column("output_index", Integer, primary_key=True, autoincrement=False),
        *(Column(column, kind, nullable=True) for column, kind in types.items()),
        ForeignKeyConstraint(
            list(KEY_COLUMNS), [states.c.txhash, states.c.output_index], ondelete="CASCADE"
        ),
        *(Index(_index_name(name, column), column) for column in types if column in indexed),
        *(Index(_index_name(name, *run), *run) for run in composite),
    )
