"""`dlt tx show` and `dlt tx list`: transactions a running node has recorded, over its RPC.

They join the offline `dlt tx decode` in the `tx` group, which adds them with
`register_commands`. `render_transaction` is also how `dlt flow start` shows a flow that
returns a transaction.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlt.cli import prefixes
from dlt.cli.endpoints import add_connection_options, call_node, print_json
from dlt.cli.main import EXIT_OK
from dlt.cli.table import cell, key_values, table
from dlt.rpc.client import RpcClient, TransactionInfo, TransactionPage, as_json

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register_commands(tx: Subparsers) -> None:
    """Add `show` and `list` to the `tx` group's commands."""
    show = tx.add_parser(
        "show",
        help="show a transaction the node has recorded",
        description="Show a recorded transaction: its notary, inputs, outputs with their "
        "fields, commands and signatures.",
    )
    show.add_argument(
        "id", metavar="ID", help="the transaction id (64 hex digits), or a unique prefix"
    )
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(show)
    show.set_defaults(handler=show_command)

    listing = tx.add_parser(
        "list",
        help="list the transactions the node has recorded",
        description="List recorded transactions, oldest first, one page at a time.",
    )
    listing.add_argument("--page", type=int, default=1, metavar="N", help="page number, from 1")
    listing.add_argument(
        "--page-size", type=int, default=50, metavar="N", help="transactions per page"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(listing)
    listing.set_defaults(handler=list_command)


def show_command(args: argparse.Namespace) -> int:
    """Handler of `dlt tx show`."""

    async def work(client: RpcClient) -> TransactionInfo:
        return await client.get_transaction(await prefixes.transaction_id(client, args.id))

    info = call_node(args, work)
    if args.json:
        print_json(info.transaction.data)
    else:
        print(render_transaction(info.transaction.data))
    return EXIT_OK


def list_command(args: argparse.Namespace) -> int:
    """Handler of `dlt tx list`."""

    async def work(client: RpcClient) -> TransactionPage:
        return await client.list_transactions(args.page, args.page_size)

    page = call_node(args, work)
    if args.json:
        print_json(as_json(page))
        return EXIT_OK
    rows = []
    for tx in page.transactions:
        data = tx.transaction.data
        rows.append(
            (
                tx.id,
                data.get("notary") or "",
                len(data.get("inputs", [])),
                len(data.get("outputs", [])),
                ", ".join(sorted({out["type"] for out in data.get("outputs", [])})),
            )
        )
    print(table(("id", "notary", "inputs", "outputs", "output types"), rows, empty="none"))
    print(f"page {page.page_number}: {len(page.transactions)} of {page.total} transactions")
    return EXIT_OK


def render_transaction(data: Mapping[str, Any]) -> str:
    """A transaction as rendered by the node (dlt.rpc.render.transaction_json), as text."""
    window = data.get("time_window")
    lines = [
        key_values(
            [
                ("transaction", data["id"]),
                ("notary", data.get("notary") or "none"),
                (
                    "time window",
                    "none"
                    if not window
                    else f"[{window.get('from') or '-inf'}, {window.get('until') or '+inf'})",
                ),
                ("inputs", ", ".join(data.get("inputs", [])) or "none"),
                ("references", ", ".join(data.get("references", [])) or "none"),
                ("attachments", ", ".join(cell(a) for a in data.get("attachments", [])) or "none"),
            ]
        ),
        "",
        "outputs:",
        table(
            ("index", "type", "contract", "fields"),
            [
                (out["index"], out["type"], out["contract"], out.get("data"))
                for out in data.get("outputs", [])
            ],
            empty="  none",
        ),
        "",
        "commands:",
        table(
            ("type", "signers"),
            [
                (command["type"], ", ".join(_signer(s) for s in command.get("signers", [])))
                for command in data.get("commands", [])
            ],
            empty="  none",
        ),
        "",
        "signatures: " + (", ".join(_signer(s) for s in data.get("signatures", [])) or "none"),
    ]
    return "\n".join(lines)


def _signer(signer: Mapping[str, Any]) -> str:
    short = str(signer.get("fingerprint", ""))[:12]
    party = signer.get("party")
    return f"{party} ({short})" if party else f"key {short}"
