"""`dlt flow`: start flows on a node and follow, list, inspect and kill them, over its RPC.

    dlt flow start test.IssueTokens owner="O=Bob Home, L=York, C=GB" amount=100 --node bob

Arguments are `key=value` pairs; a value is taken as JSON when it parses as JSON (numbers,
true/false, null, quoted strings, lists, objects) and as a plain string otherwise, so names and
ids need no quoting beyond the shell's. The node validates them against the flow's fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dlt.cli import prefixes
from dlt.cli.endpoints import add_connection_options, call_node, print_json
from dlt.cli.main import EXIT_OK, add_group
from dlt.cli.progress import Progress
from dlt.cli.table import key_values, table
from dlt.cli.tx_remote import render_transaction
from dlt.rpc.client import FlowInfo, FlowStatus, LedgerValue, RpcClient, as_json

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

TRANSACTION_TYPE = "SignedTransaction"


def register(subparsers: Subparsers) -> None:
    """Add `dlt flow start|list|status|kill`."""
    flow = add_group(subparsers, "flow", summary="start and manage flows on a node")

    start = flow.add_parser(
        "start",
        help="start a flow and show its progress and result",
        description="Start flow NAME (its registered name, e.g. test.IssueTokens) with "
        "key=value arguments. Values are JSON when they parse as JSON, else strings. Progress "
        "goes to stderr while the flow runs; the result is printed when it ends.",
    )
    start.add_argument("name", metavar="NAME", help="registered flow name")
    start.add_argument(
        "arguments",
        nargs="*",
        type=key_value,
        metavar="KEY=VALUE",
        help="flow argument (repeatable)",
    )
    start.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the flow to finish (default); --no-wait prints its id and returns",
    )
    start.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(start)
    start.set_defaults(handler=start_command)

    listing = flow.add_parser("list", help="list the node's flows")
    listing.add_argument(
        "--status",
        action="append",
        choices=[status.value for status in FlowStatus],
        help="only flows in this state (repeatable)",
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(listing)
    listing.set_defaults(handler=list_command)

    status = flow.add_parser("status", help="show one flow's state and result")
    status.add_argument(
        "flow_id", metavar="ID", help="the flow id `flow start` printed, or a unique prefix"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(status)
    status.set_defaults(handler=status_command)

    kill = flow.add_parser("kill", help="kill a running or parked flow")
    kill.add_argument("flow_id", metavar="ID", help="the flow to kill (id or unique prefix)")
    kill.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(kill)
    kill.set_defaults(handler=kill_command)


def key_value(text: str) -> tuple[str, Any]:
    """`key=value` with the value parsed as JSON when it is JSON, else kept as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def arguments_of(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for key, value in pairs:
        if key in arguments:
            raise argparse.ArgumentTypeError(f"argument {key!r} is given twice")
        arguments[key] = value
    return arguments


def start_command(args: argparse.Namespace) -> int:
    """Handler of `dlt flow start`."""
    try:
        arguments = arguments_of(args.arguments)
    except argparse.ArgumentTypeError as exc:
        print(f"dlt flow start: error: {exc}", file=sys.stderr)
        return 2

    progress = Progress()

    async def work(client: RpcClient) -> tuple[str, LedgerValue | None]:
        run = await client.start_flow(args.name, arguments)
        if not args.wait:
            run.detach()
            return run.flow_id, None
        with progress.working(f"started {args.name} as flow {run.flow_id}"):
            async for step in run.progress():
                progress.step(f"  - {step}")
            result = await run.result()
        progress.step(f"{args.name} completed")
        return run.flow_id, result

    flow_id, result = call_node(args, work)
    if not args.wait:
        if args.json:
            print_json({"flow_id": flow_id, "flow_name": args.name, "status": "started"})
        else:
            print(flow_id)
        return EXIT_OK
    if args.json:
        print_json({"flow_id": flow_id, "result": as_json(result)})
    else:
        print(render_result(result))
    return EXIT_OK


def render_result(result: LedgerValue | None) -> str:
    """A flow's result for reading: a transaction in full, a record as key: value lines."""
    if result is None:
        return "completed (no result)"
    if result.type_name == TRANSACTION_TYPE and isinstance(result.data, dict):
        return render_transaction(result.data)
    if not isinstance(result.data, dict):
        return key_values([("type", result.type_name), ("value", result.data)])
    fields = [("type", result.type_name)]
    listed = []
    for name, value in result.data.items():
        if _records(value):
            listed.append(f"{name}:\n{table(list(value[0]), [list(r.values()) for r in value])}")
        else:
            fields.append((name, value))
    return "\n\n".join([key_values(fields), *listed])


def _records(value: Any) -> bool:
    """Whether `value` is a list of records with the same fields: shown as a table."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and list(item) == list(value[0]) for item in value)
    )


def list_command(args: argparse.Namespace) -> int:
    """Handler of `dlt flow list`."""
    statuses = [FlowStatus(s) for s in args.status or ()]

    async def work(client: RpcClient) -> list[FlowInfo]:
        return await client.list_flows(statuses)

    flows = call_node(args, work)
    if args.json:
        print_json(as_json(flows))
        return EXIT_OK
    rows = [
        (
            info.flow_id,
            info.flow_name,
            info.status.value,
            info.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            _outcome(info),
        )
        for info in flows
    ]
    print(table(("id", "flow", "status", "started (UTC)", "outcome"), rows, empty="no flows"))
    return EXIT_OK


def status_command(args: argparse.Namespace) -> int:
    """Handler of `dlt flow status`."""

    async def work(client: RpcClient) -> FlowInfo:
        return await client.flow_status(await prefixes.flow_id(client, args.flow_id))

    _print_flow(call_node(args, work), args.json)
    return EXIT_OK


def kill_command(args: argparse.Namespace) -> int:
    """Handler of `dlt flow kill`."""

    async def work(client: RpcClient) -> FlowInfo:
        return await client.kill_flow(await prefixes.flow_id(client, args.flow_id))

    _print_flow(call_node(args, work), args.json)
    return EXIT_OK


def _print_flow(info: FlowInfo, as_json_output: bool) -> None:
    if as_json_output:
        print_json(as_json(info))
        return
    print(
        key_values(
            [
                ("flow", info.flow_id),
                ("name", info.flow_name),
                ("status", info.status.value),
                ("arguments", info.arguments if info.arguments is not None else ""),
                ("peer", info.peer or ""),
                ("started", info.started_at.isoformat()),
                ("updated", info.updated_at.isoformat()),
                ("error", f"{info.error_type}: {info.error_message}" if info.error_type else ""),
                ("result", "" if info.result is None else info.result.type_name),
            ]
        )
    )
    if info.result is not None:
        print()
        print(render_result(info.result))


def _outcome(info: FlowInfo) -> str:
    if info.error_type:
        return f"{info.error_type}: {info.error_message}"
    if info.result is not None:
        data = info.result.data
        if info.result.type_name == TRANSACTION_TYPE and isinstance(data, dict):
            return f"transaction {data.get('id', '')}"
        return info.result.type_name
    return ""
