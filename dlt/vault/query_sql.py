"""Turning criteria, sorting and paging into SQL, and result rows back into states.

A page is two statements whatever its size: a count and one SELECT of the page's rows
(custom schemas are LEFT JOINed once each, participants are an EXISTS), so there is no
per-state query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from dlt.crypto import SecureHash
from dlt.encoding import DecodingError, decode
from dlt.ledger import StateAndRef, StateRef, TransactionState
from dlt.vault.custom_schemas import require_schema
from dlt.vault.errors import VaultQueryError
from dlt.vault.query import (
    DEFAULT_PAGE_SIZE,
    AndCriteria,
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Operator,
    OrCriteria,
    Page,
    PageSpecification,
    QueryCriteria,
    SoftLocking,
    SoftLockKind,
    Sort,
    StandardColumn,
    StateMetadata,
    VaultQueryCriteria,
    like_tokens,
)
from dlt.vault.schema import StateStatus, distinct_hashes, key_in, state_participants, states

STATE_COLUMNS = (
    states.c.txhash,
    states.c.output_index,
    states.c.state_type,
    states.c.contract,
    states.c.notary_name,
    states.c.status,
    states.c.recorded_at,
    states.c.consumed_at,
    states.c.consuming_tx,
    states.c.lock_id,
    states.c.lock_time,
    states.c.data,
)


REFS: BindParameter[Any] = bindparam("refs", expanding=True)
REF_HASHES: BindParameter[Any] = bindparam("ref_hashes", expanding=True)

REF_IN: ColumnElement[bool] = and_(
    states.c.txhash.in_(REF_HASHES), tuple_(states.c.txhash, states.c.output_index).in_(REFS)
)
"""`ref_in` for statements built once and reused: the refs are parameters (`ref_params`),
not literals. The plain `txhash IN` is what lets SQLite search the primary key: it scans
the whole table for a row-value IN alone."""


def ref_params(refs: Iterable[StateRef]) -> dict[str, list[Any]]:
    """The values to bind to `REF_IN`'s parameters for `refs`."""
    pairs = [(str(ref.txhash), ref.index) for ref in refs]
    return {"refs": pairs, "ref_hashes": distinct_hashes(pairs)}


def ref_in(refs: Iterable[StateRef]) -> ColumnElement[bool]:
    """`states` rows whose (txhash, output_index) is one of `refs`."""
    return key_in(states.c.txhash, states.c.output_index, [(str(r.txhash), r.index) for r in refs])


def soft_lock_condition(locking: SoftLocking) -> ColumnElement[bool]:
    lock_id = states.c.lock_id
    match locking.kind:
        case SoftLockKind.ANY:
            return true()
        case SoftLockKind.UNLOCKED:
            return lock_id.is_(None)
        case SoftLockKind.LOCKED:
            return lock_id.is_not(None) if locking.lock_id is None else lock_id == locking.lock_id
        case SoftLockKind.UNLOCKED_OR:
            return or_(lock_id.is_(None), lock_id == locking.lock_id)


def _standard(criteria: VaultQueryCriteria) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if criteria.status is not StateStatus.ALL:
        parts.append(states.c.status == criteria.status)
    if criteria.state_types:
        parts.append(states.c.state_type.in_(criteria.state_type_names))
    if criteria.participants:
        parts.append(
            exists()
            .where(
                state_participants.c.txhash == states.c.txhash,
                state_participants.c.output_index == states.c.output_index,
                state_participants.c.key.in_(criteria.participant_keys),
            )
            .correlate(states)
        )
    if criteria.notary:
        parts.append(states.c.notary_key.in_(criteria.notary_keys))
    if criteria.recorded_after is not None:
        parts.append(states.c.recorded_at >= criteria.recorded_after)
    if criteria.recorded_before is not None:
        parts.append(states.c.recorded_at < criteria.recorded_before)
    if criteria.consumed_after is not None:
        parts.append(states.c.consumed_at >= criteria.consumed_after)
    if criteria.consumed_before is not None:
        parts.append(states.c.consumed_at < criteria.consumed_before)
    if criteria.refs:
        parts.append(ref_in(criteria.refs))
    parts.append(soft_lock_condition(criteria.soft_locking))
    return and_(true(), *parts)


def _glob(pattern: str) -> str:
    """A case-sensitive SQLite GLOB pattern matching what LIKE `pattern` means."""
    out = []
    for kind, char in like_tokens(pattern):
        if kind == "any":
            out.append("*")
        elif kind == "one":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)


def _custom(criteria: CustomColumnCriteria, dialect: str) -> ColumnElement[bool]:
    schema = require_schema(criteria.state_type)
    column = schema.column(criteria.column)
    value = criteria.value
    condition: ColumnElement[bool]
    match criteria.operator:
        case Operator.EQ:
            condition = column == value
        case Operator.NE:
            condition = column != value
        case Operator.LT:
            condition = column < value
        case Operator.LE:
            condition = column <= value
        case Operator.GT:
            condition = column > value
        case Operator.GE:
            condition = column >= value
        case Operator.IN:
            condition = column.in_(value)
        case Operator.BETWEEN:
            condition = column.between(value[0], value[1])
        case Operator.LIKE:
            # SQLite's LIKE ignores ASCII case; GLOB does not, which matches PostgreSQL's LIKE.
            condition = (
                column.op("GLOB")(_glob(value)) if dialect == "sqlite" else column.like(value)
            )
        case Operator.IS_NULL:
            condition = column.is_(None) if value else column.is_not(None)
    # The schema is LEFT JOINed: a state of another type has no row there and never matches.
    return and_(schema.table.c.txhash.is_not(None), condition)


def condition(criteria: QueryCriteria, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause of `criteria`, over `states` joined with the custom tables it uses."""
    match criteria:
        case VaultQueryCriteria():
            return _standard(criteria)
        case CustomColumnCriteria():
            return _custom(criteria, dialect)
        case AndCriteria(parts=parts):
            return and_(*(condition(part, dialect) for part in parts))
        case OrCriteria(parts=parts):
            return or_(*(condition(part, dialect) for part in parts))
    raise VaultQueryError(f"unsupported criteria {type(criteria).__name__}")


def constrains_status(criteria: QueryCriteria) -> bool:
    """Whether any part says which statuses it wants; otherwise queries see unconsumed only."""
    match criteria:
        case VaultQueryCriteria():
            return True
        case AndCriteria(parts=parts) | OrCriteria(parts=parts):
            return any(constrains_status(part) for part in parts)
    return False


def _custom_tables(criteria: QueryCriteria, sort: Sort) -> list[Table]:
    tables: dict[str, Table] = {}

    def visit(node: QueryCriteria) -> None:
        match node:
            case CustomColumnCriteria():
                table = require_schema(node.state_type).table
                tables[table.name] = table
            case AndCriteria(parts=parts) | OrCriteria(parts=parts):
                for part in parts:
                    visit(part)

    visit(criteria)
    for key in sort.keys:
        if isinstance(key.column, CustomColumn):
            table = require_schema(key.column.state_type).table
            tables[table.name] = table
    return [tables[name] for name in sorted(tables)]


_SELECTIVE = (Operator.EQ, Operator.IN)


def _required(criteria: QueryCriteria) -> dict[str, bool]:
    """Custom tables every match has a row in (a conjunct constrains one of their columns),
    each with whether a conjunct pins a column to given values (EQ, IN)."""
    match criteria:
        case CustomColumnCriteria():
            return {require_schema(criteria.state_type).table.name: criteria.operator in _SELECTIVE}
        case AndCriteria(parts=parts):
            found: dict[str, bool] = {}
            for part in parts:
                for name, selective in _required(part).items():
                    found[name] = found.get(name, False) or selective
            return found
    return {}


class _Driving(Join):
    """An inner join whose left table the query scans first. SQLite plans joins without
    value statistics, so it would otherwise walk every unconsumed state of the type (10^5
    coins of other currencies, say) rather than the custom rows the criteria pin down."""

    inherit_cache = True


@compiles(_Driving, "sqlite")
def _cross_join(join: _Driving, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps the left table of a CROSS JOIN as the outer loop: its documented way to
    # fix a join order. The left side is a plain table, so its text holds no JOIN keyword.
    return compiler.visit_join(join, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


def _from(tables: Sequence[Table], criteria: QueryCriteria) -> FromClause:
    """`states` with the custom tables: inner joins where every match must have a row
    (driven from a pinned one), outer joins where a match may lack one (an OR, a sort)."""
    required = _required(criteria)

    def on(table: Table) -> ColumnElement[bool]:
        return and_(
            table.c.txhash == states.c.txhash, table.c.output_index == states.c.output_index
        )

    driver = next((t for t in tables if required.get(t.name)), None)
    joined: FromClause = states if driver is None else _Driving(driver, states, on(driver))
    for table in tables:
        if table is driver:
            continue
        if table.name in required:
            joined = joined.join(table, on(table))
        else:
            joined = joined.outerjoin(table, on(table))
    return joined


def _order_by(sort: Sort) -> list[ColumnElement[Any]]:
    order: list[ColumnElement[Any]] = []
    for key in sort.keys:
        if isinstance(key.column, CustomColumn):
            column: ColumnElement[Any] = require_schema(key.column.state_type).column(
                key.column.name
            )
        else:
            column = states.c[StandardColumn(key.column).value]
        ordered = column.desc() if key.direction is Direction.DESC else column.asc()
        order.append(ordered.nulls_last())
    order.extend((states.c.txhash.asc(), states.c.output_index.asc()))
    return order


def build_select(
    criteria: QueryCriteria | None, sort: Sort | None, dialect: str
) -> tuple[Select[Any], Select[Any]]:
    """(rows in order, count of rows) for `criteria` sorted by `sort`."""
    criteria = criteria if criteria is not None else VaultQueryCriteria()
    sort = sort or Sort()
    where = condition(criteria, dialect)
    if not constrains_status(criteria):
        where = and_(states.c.status == StateStatus.UNCONSUMED, where)
    source = _from(_custom_tables(criteria, sort), criteria)
    rows = select(*STATE_COLUMNS).select_from(source).where(where).order_by(*_order_by(sort))
    count = select(func.count()).select_from(source).where(where)
    return rows, count


def state_and_ref(row: Row[Any]) -> StateAndRef:
    """Decode a `states` row into the StateAndRef it stores."""
    ref = StateRef(txhash=SecureHash.parse(row.txhash), index=row.output_index)
    try:
        state = decode(row.data, TransactionState)
    except DecodingError as exc:
        raise VaultQueryError(
            f"state {ref} of type {row.state_type} cannot be decoded ({exc}); "
            "is the CorDapp that defines it installed?"
        ) from exc
    return StateAndRef(state=state, ref=ref)


def state_metadata(row: Row[Any]) -> StateMetadata:
    return StateMetadata(
        ref=StateRef(txhash=SecureHash.parse(row.txhash), index=row.output_index),
        state_type=row.state_type,
        contract=row.contract,
        notary_name=row.notary_name,
        status=StateStatus(row.status),
        recorded_at=row.recorded_at,
        consumed_at=row.consumed_at,
        consuming_tx=SecureHash.parse(row.consuming_tx) if row.consuming_tx else None,
        lock_id=row.lock_id,
        lock_time=row.lock_time,
    )


def query_states(
    session: Session,
    criteria: QueryCriteria | None = None,
    paging: PageSpecification | None = None,
    sort: Sort | None = None,
) -> Page:
    """One page of matching states. Unpaged queries may match at most DEFAULT_PAGE_SIZE."""
    rows_query, count_query = build_select(criteria, sort, session.get_bind().dialect.name)
    total = session.execute(count_query).scalar_one()
    if paging is None:
        if total > DEFAULT_PAGE_SIZE:
            raise VaultQueryError(
                f"the query matches {total} states, more than the {DEFAULT_PAGE_SIZE} an "
                "unpaged query may return; pass a PageSpecification and fetch page by page"
            )
        paging = PageSpecification()
    rows = session.execute(rows_query.limit(paging.page_size).offset(paging.offset)).all()
    return Page(
        states=tuple(state_and_ref(row) for row in rows),
        total_states_available=total,
        page_number=paging.page_number,
        page_size=paging.page_size,
        metadata=tuple(state_metadata(row) for row in rows),
    )
