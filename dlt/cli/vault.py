"""`dlt vault query`: a node's states by type, status, parties, time and custom columns.

    dlt vault query --node alice --type test.TokenState --where amount '>=' 10 \\
        --sort amount:desc --page-size 20

`--where COLUMN OP VALUE` filters on a column of the state type's custom schema (so it needs
exactly one --type, or COLUMN written as <state type>.<column>); OP is one of
== != < <= > >= in between like is_null, and VALUE is converted to the column's type by the
node (`in`/`between` take a comma-separated list).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from dlt.cli.balance import register_command as register_balance
from dlt.cli.endpoints import add_connection_options, call_node, print_json
from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.cli.table import table
from dlt.rpc.client import (
    ColumnCondition,
    RpcClient,
    SortBy,
    StateStatus,
    VaultPage,
    VaultQuery,
    as_json,
)

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

DESCENDING = "desc"
ASCENDING = "asc"


def register(subparsers: Subparsers) -> None:
    """Add `dlt vault query` and `dlt vault balance`."""
    vault = add_group(subparsers, "vault", summary="query a node's vault and its balances")
    query = vault.add_parser(
        "query",
        help="list states matching criteria",
        description="List the node's states that match all the criteria given, one page at "
        "a time (unconsumed states of every type by default).",
    )
    query.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="NAME",
        dest="types",
        help="registered state type name, e.g. test.TokenState (repeatable: any of them)",
    )
    query.add_argument(
        "--status",
        choices=[status.value for status in StateStatus],
        default=StateStatus.UNCONSUMED.value,
        help="unconsumed (default), consumed or all",
    )
    query.add_argument(
        "--where",
        nargs=3,
        action="append",
        default=[],
        metavar=("COLUMN", "OP", "VALUE"),
        help="custom column condition (repeatable: all must hold)",
    )
    query.add_argument(
        "--participant",
        action="append",
        default=[],
        metavar="X500",
        help="a participant's X.500 name (repeatable)",
    )
    query.add_argument(
        "--notary", action="append", default=[], metavar="X500", help="the states' notary"
    )
    query.add_argument(
        "--recorded-after", type=moment, metavar="ISO8601", help="recorded at or after"
    )
    query.add_argument("--recorded-before", type=moment, metavar="ISO8601", help="recorded before")
    query.add_argument("--page", type=int, default=1, metavar="N", help="page number, from 1")
    query.add_argument("--page-size", type=int, default=50, metavar="N", help="states per page")
    query.add_argument(
        "--sort",
        action="append",
        default=[],
        type=sort_key,
        metavar="COLUMN[:desc]",
        help="sort column, e.g. recorded_at:desc or a custom column (repeatable, in priority "
        "order)",
    )
    query.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(query)
    query.set_defaults(handler=query_command)
    register_balance(vault)


def sort_key(text: str) -> SortBy:
    column, sep, direction = text.rpartition(":")
    if not sep or direction.lower() not in (ASCENDING, DESCENDING):
        return SortBy(text)
    if not column:
        raise argparse.ArgumentTypeError(f"expected COLUMN[:desc], got {text!r}")
    return SortBy(column, descending=direction.lower() == DESCENDING)


def moment(text: str) -> datetime:
    """An ISO 8601 time with a time zone, as `--recorded-after` and the explorer take it."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone, e.g. {text}+00:00")
    return when


def vault_query_from(args: argparse.Namespace) -> VaultQuery:
    """The query that `dlt vault query`'s options describe (the explorer's form has the same
    fields); `CommandError` when paging is out of range."""
    if args.page < 1 or args.page_size < 1:
        raise CommandError("--page and --page-size must be at least 1")
    return VaultQuery(
        status=StateStatus(args.status),
        state_types=args.types,
        participants=args.participant,
        notaries=args.notary,
        recorded_after=args.recorded_after,
        recorded_before=args.recorded_before,
        conditions=[ColumnCondition(column, op, value) for column, op, value in args.where],
        page_number=args.page,
        page_size=args.page_size,
        sort=args.sort,
    )


def query_command(args: argparse.Namespace) -> int:
    """Handler of `dlt vault query`."""
    query = vault_query_from(args)

    async def work(client: RpcClient) -> VaultPage:
        return await client.vault_query(query)

    page = call_node(args, work)
    if args.json:
        print_json(as_json(page))
        return EXIT_OK
    rows = [
        (
            state.ref,
            state.state_type,
            state.status.value,
            state.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            state.data,
        )
        for state in page.states
    ]
    print(table(("ref", "type", "status", "recorded (UTC)", "fields"), rows, empty="no states"))
    pages = max(1, -(-page.total_states_available // page.page_size))
    print(
        f"page {page.page_number} of {pages}: {len(page.states)} of "
        f"{page.total_states_available} states"
    )
    return EXIT_OK
