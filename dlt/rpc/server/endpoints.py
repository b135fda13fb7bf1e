"""What every endpoint of the servicer shares: the node, the caller's authorisation, and
turning whatever a call raises into a gRPC status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from dlt.rpc.generated import node_pb2, node_pb2_grpc
from dlt.rpc.server import auth, convert
from dlt.rpc.server.errors import Context, fail
from dlt.rpc.users import RpcUser

if TYPE_CHECKING:
    from dlt.rpc.server.lifecycle import RpcServer

T = TypeVar("T")


class Endpoints(node_pb2_grpc.NodeRpcServicer):
    """The base of each area's endpoints; `servicer.NodeRpc` composes them into one service."""

    def __init__(self, server: RpcServer) -> None:
        self._server = server
        self._node = server.node
        self._users = server.users

    async def _authenticate(self, context: Context) -> RpcUser:
        return await auth.authenticate(self._users, context)

    async def _authorise(self, context: Context, method: str) -> RpcUser:
        return await auth.authorise(self._users, context, method)

    async def _unary(
        self, context: Context, method: str, work: Callable[[RpcUser], Awaitable[T]]
    ) -> T:
        """Authorise the caller for `method`, then answer with `work`."""
        try:
            user = await self._authorise(context, method)
            return await work(user)
        except Exception as exc:
            await fail(context, method, exc)

    def _ledger_value(self, value: object, encoded: bytes | None = None) -> node_pb2.LedgerValue:
        """`value` as the node renders it, signers named by the node's identity service."""
        return convert.ledger_value(value, self._node.services.identity.describe, encoded)
