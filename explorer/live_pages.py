"""Flows, live: the list (and the hospital's patients) updated by server-sent events as flows
change state, and one flow's steps as it reports them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from dlt.rpc.client import FlowInfo, FlowStatus, RpcError, RpcNotFoundError
from explorer.app import SECURITY_HEADERS, PageError, page, render
from explorer.filters import moment
from explorer.sessions import Session

POLL_SECONDS = 1.0
MAX_STREAM_SECONDS = 15 * 60
"""An event stream ends after this long; the browser's EventSource reconnects by itself."""
SHOWN_FLOWS = 200


def routes() -> list[Route]:
    return [
        Route("/flows", page(flows), methods=["GET"]),
        Route("/flows/events", page(flow_events), methods=["GET"]),
        Route("/flows/{flow_id}", page(one_flow), methods=["GET"]),
        Route("/flows/{flow_id}/events", page(flow_steps), methods=["GET"]),
    ]


def flow_row(flow: FlowInfo) -> dict[str, str]:
    """What the page shows of a flow, also as the data of its live updates."""
    return {
        "flow_id": flow.flow_id,
        "flow_name": flow.flow_name,
        "status": flow.status.value,
        "peer": flow.peer or "",
        "started": moment(flow.started_at),
        "updated": moment(flow.updated_at),
        "error": f"{flow.error_type}: {flow.error_message}" if flow.error_type else "",
    }


async def flows(request: Request, session: Session) -> Response:
    listed = await session.node.list_flows()
    newest = sorted(listed, key=lambda f: f.started_at, reverse=True)[:SHOWN_FLOWS]
    hospital = [f for f in listed if f.status is FlowStatus.HOSPITALISED]
    counts = {status.value: sum(f.status is status for f in listed) for status in FlowStatus}
    return render(
        request,
        "flows.html",
        rows=[flow_row(f) for f in newest],
        hospital=[flow_row(f) for f in hospital],
        counts=counts,
        total=len(listed),
    )


def _event(kind: str, data: object) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def _stream(events: AsyncIterator[str]) -> StreamingResponse:
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def flow_events(request: Request, session: Session) -> Response:
    """A `flow` event for each flow whose state changed since the last poll of the node."""

    async def events() -> AsyncIterator[str]:
        seen = {f.flow_id: flow_row(f) for f in await session.node.list_flows()}
        yield _event("ready", {"flows": len(seen)})
        loop = asyncio.get_running_loop()
        ends = loop.time() + MAX_STREAM_SECONDS
        while loop.time() < ends and not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            try:
                current = await session.node.list_flows()
            except RpcError as exc:
                yield _event("failure", {"message": str(exc)})
                return
            for flow in current:
                row = flow_row(flow)
                if seen.get(flow.flow_id) != row:
                    seen[flow.flow_id] = row
                    yield _event("flow", row)

    return _stream(events())


async def one_flow(request: Request, session: Session) -> Response:
    try:
        flow = await session.node.flow_status(request.path_params["flow_id"])
    except RpcNotFoundError as exc:
        raise PageError(str(exc), status=404) from exc
    return render(request, "flow.html", flow=flow, row=flow_row(flow))


async def flow_steps(request: Request, session: Session) -> Response:
    """A `step` event per step the flow reports, then `end` with how it finished."""
    flow_id = request.path_params["flow_id"]

    async def events() -> AsyncIterator[str]:
        try:
            async for step in session.node.track_flow(flow_id):
                yield _event("step", {"step": step})
            yield _event("end", flow_row(await session.node.flow_status(flow_id)))
        except RpcError as exc:
            yield _event("failure", {"message": str(exc)})

    return _stream(events())
