"""The flow endpoints: start a flow and follow it, report, list, track and kill flows.

A flow that fails after it started is not a call error: StartFlow reports it in its final
FlowFailed event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
from pydantic import ValidationError

from dlt.flows.api import FlowLogic
from dlt.flows.registry import registered_flows
from dlt.flows.storage import FlowRecord
from dlt.rpc.generated import node_pb2
from dlt.rpc.server import auth, convert
from dlt.rpc.server.endpoints import Endpoints
from dlt.rpc.server.errors import Context, Refusal, fail, log
from dlt.rpc.users import RpcUser


class FlowEndpoints(Endpoints):
    """The service's flow methods; the names are the protocol's, hence CamelCase."""

    async def StartFlow(  # noqa: N802
        self, request: node_pb2.StartFlowRequest, context: Context
    ) -> AsyncIterator[node_pb2.FlowEvent]:
        try:
            user = await self._authenticate(context)
            flow = self._flow_to_start(user, request.flow_name, request.arguments_json or "{}")
            async for event in self._follow(flow, request.flow_name):
                yield event
        except Exception as exc:
            await fail(context, "StartFlow", exc)

    async def _follow(
        self, flow: FlowLogic[Any], flow_name: str
    ) -> AsyncIterator[node_pb2.FlowEvent]:
        """Start `flow`, then report its steps and its end. If the caller goes away, the flow
        runs on; its status and result stay available from FlowStatus."""
        handle = await self._node.start_flow(flow)
        flow_id = handle.flow_id
        yield node_pb2.FlowEvent(started=node_pb2.FlowStarted(flow_id=flow_id, flow_name=flow_name))
        sent = 0
        async for step in self._node.engine.track_progress(flow_id):
            sent += 1
            yield node_pb2.FlowEvent(progress=node_pb2.FlowProgress(step=step))
        for step in handle.progress[sent:]:
            yield node_pb2.FlowEvent(progress=node_pb2.FlowProgress(step=step))
        try:
            result = await handle.result()
        except Exception as exc:
            record = await self._node.engine.flow_status(flow_id)
            yield node_pb2.FlowEvent(
                failed=node_pb2.FlowFailed(
                    flow_id=flow_id,
                    error_type=type(exc).__name__,
                    message=str(exc),
                    state=convert.FLOW_STATES[record.status],
                )
            )
            return
        completed = node_pb2.FlowCompleted(flow_id=flow_id)
        if result is not None:
            completed.result.CopyFrom(self._ledger_value(result))
        yield node_pb2.FlowEvent(completed=completed)

    def _flow_to_start(self, user: RpcUser, name: str, arguments: str) -> FlowLogic[Any]:
        """The flow `user` asked for, built from its JSON arguments, or the reason not."""
        if not name:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "no flow name given")
        auth.authorise_flow(user, name)
        flows = registered_flows()
        cls = flows.get(name)
        if cls is None:
            startable = sorted(n for n, c in flows.items() if c.startable_by_rpc)
            raise Refusal(
                grpc.StatusCode.NOT_FOUND,
                f"no flow is registered as {name!r} on {self._node.name}; flows startable by "
                f"RPC: {', '.join(startable) or 'none'}",
            )
        if not cls.startable_by_rpc:
            raise Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"flow {name} cannot be started by RPC: its CorDapp does not register it with "
                "@flow(..., rpc=True)",
            )
        try:
            return cls.model_validate_json(arguments)
        except ValidationError as exc:
            raise Refusal(
                grpc.StatusCode.INVALID_ARGUMENT, readable_validation_error(name, cls, exc)
            ) from exc

    async def FlowStatus(  # noqa: N802
        self, request: node_pb2.FlowStatusRequest, context: Context
    ) -> node_pb2.FlowInfo:
        async def work(user: RpcUser) -> node_pb2.FlowInfo:
            return self._flow_info(await self._node.engine.flow_status(request.flow_id))

        return await self._unary(context, "FlowStatus", work)

    async def ListFlows(  # noqa: N802
        self, request: node_pb2.ListFlowsRequest, context: Context
    ) -> node_pb2.ListFlowsResponse:
        async def work(user: RpcUser) -> node_pb2.ListFlowsResponse:
            statuses = [convert.flow_status(state) for state in request.states] or None
            records = await self._node.engine.list_flows(statuses)
            return node_pb2.ListFlowsResponse(flows=[self._flow_info(r) for r in records])

        return await self._unary(context, "ListFlows", work)

    async def TrackFlow(  # noqa: N802
        self, request: node_pb2.FlowStatusRequest, context: Context
    ) -> AsyncIterator[node_pb2.FlowProgress]:
        try:
            await self._authorise(context, "TrackFlow")
            async for step in self._node.engine.track_progress(request.flow_id):
                yield node_pb2.FlowProgress(step=step)
        except Exception as exc:
            await fail(context, "TrackFlow", exc)

    async def KillFlow(  # noqa: N802
        self, request: node_pb2.KillFlowRequest, context: Context
    ) -> node_pb2.FlowInfo:
        async def work(user: RpcUser) -> node_pb2.FlowInfo:
            log.warning("RPC user %s kills flow %s", user.username, request.flow_id)
            await self._node.engine.kill_flow(request.flow_id)
            return self._flow_info(await self._node.engine.flow_status(request.flow_id))

        return await self._unary(context, "KillFlow", work)

    def _flow_info(self, record: FlowRecord) -> node_pb2.FlowInfo:
        return convert.flow_info(record, self._node.services.identity.describe)


def readable_validation_error(name: str, cls: type[FlowLogic[Any]], exc: ValidationError) -> str:
    """pydantic's complaints as one line per field, plus the fields the flow takes."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problem = f"{where}: {error['msg']}"
        value = error.get("input")
        if error["type"] not in ("missing", "json_invalid", "model_type") and _short(value):
            problem += f" (got {json.dumps(value)})"
        problems.append(problem)
    fields = ", ".join(
        f"{field}{'' if info.is_required() else '?'}" for field, info in cls.model_fields.items()
    )
    return f"invalid arguments for {name}: {'; '.join(problems)} (it takes: {fields})"


def _short(value: object) -> bool:
    return isinstance(value, bool | int | float | str) and len(str(value)) <= 80
