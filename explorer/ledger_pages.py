"""Transactions (list, search by id, one with its components and signatures) and the vault
(with the criteria of `dlt vault query`)."""

from __future__ import annotations

import argparse
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dlt.cli.main import CommandError
from dlt.cli.vault import moment, sort_key, vault_query_from
from dlt.rpc.client import ColumnCondition, RpcNotFoundError, StateStatus, TransactionInfo
from explorer.app import SECURITY_HEADERS, PageError, page, render
from explorer.sessions import ReadOnlyNode, Session

PAGE_SIZE = 25
SCAN_PAGE = 200
MAX_SCANNED = 10_000
"""Search by id prefix reads at most this many transactions."""
TX_ID = re.compile(r"^[0-9a-f]{64}$")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "between", "like", "is_null")


def routes() -> list[Route]:
    return [
        Route("/transactions", page(transactions), methods=["GET"]),
        Route("/transactions/{tx_id}", page(transaction), methods=["GET"]),
        Route("/vault", page(vault), methods=["GET"]),
    ]


def _int(request: Request, name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    text = request.query_params.get(name, "")
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise PageError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


async def all_transactions(node: ReadOnlyNode) -> list[TransactionInfo]:
    """Every transaction the node recorded, oldest first, up to MAX_SCANNED."""
    found: list[TransactionInfo] = []
    number = 1
    while len(found) < MAX_SCANNED:
        batch = await node.list_transactions(number, SCAN_PAGE)
        found.extend(batch.transactions)
        if not batch.transactions or number * batch.page_size >= batch.total:
            break
        number += 1
    return found


async def transactions(request: Request, session: Session) -> Response:
    query = request.query_params.get("q", "").strip().lower()
    if TX_ID.match(query):
        return RedirectResponse(f"/transactions/{query}", 303, headers=SECURITY_HEADERS)
    if query:
        if not re.fullmatch(r"[0-9a-f]{4,63}", query):
            raise PageError("search by a transaction id or its first 4 or more hex digits")
        matches = [tx for tx in await all_transactions(session.node) if tx.id.startswith(query)]
        return render(
            request,
            "transactions.html",
            rows=matches,
            query=query,
            number=1,
            pages=1,
            total=len(matches),
        )
    size = _int(request, "size", PAGE_SIZE, high=500)
    listed = await session.node.list_transactions(1, size)
    pages = max(1, -(-listed.total // size))
    number = _int(request, "page", pages, high=pages)
    if number != 1:
        listed = await session.node.list_transactions(number, size)
    rows = list(reversed(listed.transactions))
    return render(
        request,
        "transactions.html",
        rows=rows,
        query="",
        number=number,
        pages=pages,
        total=listed.total,
        size=size,
    )


async def transaction(request: Request, session: Session) -> Response:
    tx_id = request.path_params["tx_id"].lower()
    if not TX_ID.match(tx_id):
        raise PageError(f"{tx_id[:80]!r} is not a transaction id (64 hex digits)")
    try:
        tx = await session.node.get_transaction(tx_id)
    except RpcNotFoundError as exc:
        raise PageError(str(exc), status=404) from exc
    return render(request, "transaction.html", tx=tx, data=tx.transaction.data or {})


def vault_criteria(request: Request) -> argparse.Namespace:
    """The page's query string as the options `dlt vault query` takes."""
    params = request.query_params
    try:
        sorts = [sort_key(text) for text in params.getlist("sort") if text.strip()]
        after = params.get("recorded_after", "").strip()
        before = params.get("recorded_before", "").strip()
        criteria = argparse.Namespace(
            status=params.get("status") or StateStatus.UNCONSUMED.value,
            types=[t.strip() for t in params.getlist("type") if t.strip()],
            participant=[p.strip() for p in params.getlist("participant") if p.strip()],
            notary=[n.strip() for n in params.getlist("notary") if n.strip()],
            recorded_after=moment(after) if after else None,
            recorded_before=moment(before) if before else None,
            where=_conditions(
                params.getlist("where_column"),
                params.getlist("where_op"),
                params.getlist("where_value"),
            ),
            page=_int(request, "page", 1),
            page_size=_int(request, "size", PAGE_SIZE, high=500),
            sort=sorts,
        )
    except argparse.ArgumentTypeError as exc:
        raise PageError(str(exc)) from exc
    if criteria.status not in {status.value for status in StateStatus}:
        raise PageError(f"status must be unconsumed, consumed or all, got {criteria.status!r}")
    return criteria


def _conditions(
    columns: list[str], operators: list[str], values: list[str]
) -> list[tuple[str, str, str]]:
    conditions = []
    for column, operator, value in zip(columns, operators, values, strict=False):
        if not column.strip():
            continue
        if operator not in OPERATORS:
            raise PageError(f"operator must be one of {' '.join(OPERATORS)}, got {operator!r}")
        conditions.append((column.strip(), operator, value))
    return conditions


async def vault(request: Request, session: Session) -> Response:
    criteria = vault_criteria(request)
    try:
        query = vault_query_from(criteria)
    except CommandError as exc:
        raise PageError(str(exc)) from exc
    result = await session.node.vault_query(query)
    pages = max(1, -(-result.total_states_available // result.page_size))
    return render(
        request,
        "vault.html",
        result=result,
        criteria=criteria,
        conditions=[ColumnCondition(c, o, v) for c, o, v in criteria.where]
        or [ColumnCondition("", "==", "")],
        operators=OPERATORS,
        statuses=[status.value for status in StateStatus],
        pages=pages,
        query_string=_without_page(request),
    )


def _without_page(request: Request) -> str:
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])
