"""The RPC server's life: bind its address with TLS, serve the node's servicer, stop."""

from __future__ import annotations

import grpc
import grpc.aio

from dlt.node.node import Node
from dlt.rpc.generated import node_pb2_grpc
from dlt.rpc.server.errors import RpcServerError, log
from dlt.rpc.server.servicer import NodeRpc
from dlt.rpc.server.tls import RpcTls
from dlt.rpc.users import RpcUsers

DEFAULT_CHUNK_SIZE = 64 * 1024
"""Attachment bytes per streamed message: far below gRPC's 4 MiB message limit."""

DEFAULT_MAX_ATTACHMENT_SIZE = 64 * 1024 * 1024
"""The largest upload accepted; it is held in memory while its hash is computed."""


class RpcServer:
    """Serves `node` to `users` on `address` ("host:port"; port 0 picks a free one)."""

    def __init__(
        self,
        node: Node,
        users: RpcUsers,
        address: str,
        tls: RpcTls,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_attachment_size: int = DEFAULT_MAX_ATTACHMENT_SIZE,
    ) -> None:
        self.node = node
        self.users = users
        self.requested_address = address
        self.tls = tls
        self.chunk_size = chunk_size
        self.max_attachment_size = max_attachment_size
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None

    @property
    def address(self) -> str:
        """The address clients connect to, with the port actually bound."""
        if self.port is None:
            raise RpcServerError("the RPC server is not started")
        host = self.requested_address.rpartition(":")[0]
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Bind the address and start serving; RpcServerError when it cannot be bound."""
        # Without SO_REUSEPORT a second server on the same port fails here instead of silently
        # sharing (and splitting) the first one's calls.
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        node_pb2_grpc.add_NodeRpcServicer_to_server(NodeRpc(self), server)
        credentials = grpc.ssl_server_credentials(
            [(self.tls.key_pem, self.tls.cert_chain_pem)],
            root_certificates=self.tls.client_ca_pem,
            require_client_auth=self.tls.client_ca_pem is not None,
        )
        try:
            port = server.add_secure_port(self.requested_address, credentials)
        except RuntimeError as exc:
            await server.stop(None)
            raise RpcServerError(f"cannot listen on {self.requested_address}: {exc}") from exc
        if port == 0:
            await server.stop(None)
            raise RpcServerError(f"cannot listen on {self.requested_address}")
        await server.start()
        self._server = server
        self.port = port
        log.info("RPC for %s listening on %s", self.node.name, self.address)

    async def stop(self, grace: float | None = 1.0) -> None:
        """Stop taking calls; calls still running get `grace` seconds to finish."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)

    async def __aenter__(self) -> RpcServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
