"""Following a flow started over RPC: its steps as they happen, then its result or failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import grpc.aio

from dlt.rpc.client.convert import FLOW_STATUS, ledger_value
from dlt.rpc.client.errors import FlowFailedError, RpcError, mapped
from dlt.rpc.client.results import FlowStatus, LedgerValue
from dlt.rpc.generated import node_pb2


class FlowRun:
    """A flow started through `RpcClient.start_flow`: its id, then its steps and its end.

    Read `progress()` to see each step as it happens, then `result()`; or call `result()`
    straight away. `detach()` stops following: the flow runs on, and `flow_status` reports it.
    """

    def __init__(
        self,
        call: grpc.aio.UnaryStreamCall[node_pb2.StartFlowRequest, node_pb2.FlowEvent],
        started: node_pb2.FlowStarted,
        address: str,
    ) -> None:
        self._call = call
        self._address = address
        self.flow_id = started.flow_id
        self.flow_name = started.flow_name
        self._final: node_pb2.FlowEvent | None = None

    async def progress(self) -> AsyncIterator[str]:
        """Each step the flow reports, live, until it finishes."""
        while self._final is None:
            event = await self._next()
            kind = event.WhichOneof("event")
            if kind == "progress":
                yield event.progress.step
            elif kind in ("completed", "failed"):
                self._final = event

    async def result(self) -> LedgerValue | None:
        """The flow's return value (None when it returns nothing); raises FlowFailedError."""
        async for _ in self.progress():
            pass
        final = self._final
        assert final is not None
        if final.WhichOneof("event") == "failed":
            failed = final.failed
            raise FlowFailedError(
                failed.flow_id or self.flow_id,
                failed.error_type,
                failed.message,
                FLOW_STATUS.get(failed.state, FlowStatus.FAILED),
            )
        completed = final.completed
        return ledger_value(completed.result) if completed.HasField("result") else None

    def detach(self) -> None:
        """Stop following the flow; it keeps running on the node."""
        self._call.cancel()

    async def _next(self) -> node_pb2.FlowEvent:
        try:
            event = await self._call.read()
        except grpc.aio.AioRpcError as exc:
            raise mapped(exc, self._address) from None
        if event is grpc.aio.EOF:
            raise RpcError(
                f"the node ended flow {self.flow_id}'s stream without its outcome; "
                "ask for it with flow_status",
            )
        return event  # type: ignore[no-any-return]
