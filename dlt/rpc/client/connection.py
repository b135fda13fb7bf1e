"""The connection to one node's RPC as one user: TLS, credentials, and a method per call."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Final

import grpc
import grpc.aio
from pydantic_core import PydanticSerializationError, to_jsonable_python

from dlt.identity import X500Name, identity_host_name
from dlt.rpc.client import convert
from dlt.rpc.client.errors import RpcError, mapped
from dlt.rpc.client.flow_run import FlowRun
from dlt.rpc.client.query import VaultQuery
from dlt.rpc.client.results import (
    AttachmentInfo,
    FlowInfo,
    FlowStatus,
    LedgerValue,
    NetworkMapInfo,
    NotaryServiceInfo,
    PeerInfo,
    TransactionInfo,
    TransactionPage,
    VaultPage,
)
from dlt.rpc.generated import node_pb2, node_pb2_grpc

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a unary call may take; following a flow has no limit, flows may run long."""

DEFAULT_CHUNK_SIZE: Final = 64 * 1024


class RpcClient:
    """A connection to one node's RPC as one user. Use `async with`, or call `close()`.

    `ca_pem` is the certificate (PEM) that the node's TLS certificate chains to, normally the
    network's root. With `node_name` the client talks only to that node: the server must present
    a certificate for the node's identity host name, which only that node's name-constrained CA
    can certify; otherwise it checks only that the certificate names the host connected to.
    `server_name` overrides that host name. For mutual TLS pass a client certificate and key.
    """

    def __init__(
        self,
        address: str,
        username: str,
        password: str,
        ca_pem: bytes,
        *,
        client_cert_chain_pem: bytes | None = None,
        client_key_pem: bytes | None = None,
        server_name: str | None = None,
        node_name: X500Name | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if node_name is not None and server_name is not None:
            raise ValueError("give node_name or server_name, not both: both set the name checked")
        if node_name is not None:
            server_name = identity_host_name(node_name)
        self.address = address
        self.node_name = node_name
        self._where = address if node_name is None else f"{address} (expecting {node_name})"
        self.username = username
        self.timeout = timeout
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._metadata = (("authorization", f"Basic {token}"),)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ca_pem,
            private_key=client_key_pem,
            certificate_chain=client_cert_chain_pem,
        )
        options = [] if server_name is None else [("grpc.ssl_target_name_override", server_name)]
        self._channel = grpc.aio.secure_channel(address, credentials, options=options)
        self._stub = node_pb2_grpc.NodeRpcStub(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _unary(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return await method(request, metadata=self._metadata, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise mapped(exc, self._where) from None

    # -- flows ------------------------------------------------------------------------------

    async def start_flow(
        self, flow_name: str, arguments: Mapping[str, Any] | None = None
    ) -> FlowRun:
        """Start `flow_name` with `arguments` (JSON-able values; ledger names and hashes may
        be given as their text). Returns once the node has started it; refusals (arguments,
        permissions, unknown flow) raise here."""
        request = node_pb2.StartFlowRequest(
            flow_name=flow_name, arguments_json=json.dumps(dict(arguments or {}), default=_json)
        )
        call = self._stub.StartFlow(request, metadata=self._metadata)
        try:
            first = await call.read()
        except grpc.aio.AioRpcError as exc:
            raise mapped(exc, self._where) from None
        if first is grpc.aio.EOF or first.WhichOneof("event") != "started":
            call.cancel()
            raise RpcError(f"the node did not confirm starting {flow_name}")
        return FlowRun(call, first.started, self._where)

    async def run_flow(
        self,
        flow_name: str,
        arguments: Mapping[str, Any] | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> LedgerValue | None:
        """Start a flow and wait for its result, passing each step to `on_progress`."""
        run = await self.start_flow(flow_name, arguments)
        async for step in run.progress():
            if on_progress is not None:
                on_progress(step)
        return await run.result()

    async def flow_status(self, flow_id: str) -> FlowInfo:
        info = await self._unary(self._stub.FlowStatus, node_pb2.FlowStatusRequest(flow_id=flow_id))
        return convert.flow_info(info)

    async def list_flows(self, statuses: Iterable[FlowStatus] = ()) -> list[FlowInfo]:
        """Flows on the node, oldest first; only those in `statuses` when given."""
        request = node_pb2.ListFlowsRequest(states=[convert.FLOW_STATE[s] for s in statuses])
        response = await self._unary(self._stub.ListFlows, request)
        return [convert.flow_info(info) for info in response.flows]

    async def track_flow(self, flow_id: str) -> AsyncIterator[str]:
        """The steps a running flow reported so far, then each new one until it finishes;
        nothing for a flow that is not running. Following changes nothing on the node."""
        call = self._stub.TrackFlow(
            node_pb2.FlowStatusRequest(flow_id=flow_id), metadata=self._metadata
        )
        try:
            while (event := await call.read()) is not grpc.aio.EOF:
                yield event.step
        except grpc.aio.AioRpcError as exc:
            raise mapped(exc, self.address) from None
        finally:
            call.cancel()

    async def kill_flow(self, flow_id: str) -> FlowInfo:
        """Kill a running or parked flow; returns its status afterwards."""
        info = await self._unary(self._stub.KillFlow, node_pb2.KillFlowRequest(flow_id=flow_id))
        return convert.flow_info(info)

    # -- vault and transactions -------------------------------------------------------------

    async def vault_query(self, query: VaultQuery | None = None) -> VaultPage:
        response = await self._unary(self._stub.VaultQuery, (query or VaultQuery()).to_request())
        return VaultPage(
            states=tuple(convert.vault_state(state) for state in response.states),
            total_states_available=response.total_states_available,
            page_number=response.page_number,
            page_size=response.page_size,
        )

    async def get_transaction(self, tx_id: str) -> TransactionInfo:
        response = await self._unary(
            self._stub.GetTransaction, node_pb2.GetTransactionRequest(id=tx_id)
        )
        return convert.transaction(response)

    async def list_transactions(self, page_number: int = 1, page_size: int = 0) -> TransactionPage:
        """Recorded transactions, oldest first; page size 0 is the node's default."""
        response = await self._unary(
            self._stub.ListTransactions,
            node_pb2.ListTransactionsRequest(page_number=page_number, page_size=page_size),
        )
        return TransactionPage(
            transactions=tuple(convert.transaction(tx) for tx in response.transactions),
            total=response.total,
            page_number=response.page_number,
            page_size=response.page_size,
        )

    # -- network ----------------------------------------------------------------------------

    async def node_info(self) -> PeerInfo:
        return convert.peer(await self._unary(self._stub.NodeInfo, node_pb2.NodeInfoRequest()))

    async def network_map(self) -> NetworkMapInfo:
        response = await self._unary(self._stub.NetworkMap, node_pb2.NetworkMapRequest())
        return NetworkMapInfo(
            peers=tuple(convert.peer(peer) for peer in response.peers),
            notaries=tuple(
                NotaryServiceInfo(
                    name=notary.identity.name,
                    owning_key=notary.identity.owning_key,
                    fingerprint=notary.identity.fingerprint,
                    validating=notary.validating,
                    replicas=tuple(replica.name for replica in notary.replicas),
                )
                for notary in response.notaries
            ),
            epoch=response.epoch,
            parameters_hash=response.parameters_hash,
            minimum_platform_version=response.minimum_platform_version,
        )

    # -- attachments ------------------------------------------------------------------------

    async def upload_attachment(
        self,
        source: bytes | Path,
        *,
        filename: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AttachmentInfo:
        """Upload bytes or a file in chunks; the id is the SHA-256 of the content."""
        with contextlib.ExitStack() as stack:
            if isinstance(source, Path):
                filename = filename if filename is not None else source.name
                content: bytes | BinaryIO = stack.enter_context(source.open("rb"))
            else:
                content = source
            chunks = _chunks(content, filename or "", chunk_size)
            try:
                info = await self._stub.UploadAttachment(chunks, metadata=self._metadata)
            except grpc.aio.AioRpcError as exc:
                raise mapped(exc, self._where) from None
        return AttachmentInfo(
            id=info.id, size=info.size, filename=info.filename or None, uploader=info.uploader
        )

    async def attachment_chunks(self, attachment_id: str) -> AsyncIterator[bytes]:
        """The attachment's content, chunk by chunk, for writing large ones to a file."""
        call = self._stub.DownloadAttachment(
            node_pb2.DownloadAttachmentRequest(id=attachment_id), metadata=self._metadata
        )
        try:
            while (chunk := await call.read()) is not grpc.aio.EOF:
                yield chunk.data
        except grpc.aio.AioRpcError as exc:
            raise mapped(exc, self._where) from None

    async def download_attachment(self, attachment_id: str) -> bytes:
        return b"".join([chunk async for chunk in self.attachment_chunks(attachment_id)])


async def _chunks(
    content: bytes | BinaryIO, filename: str, size: int
) -> AsyncIterator[node_pb2.AttachmentChunk]:
    """The upload stream; only the first chunk names the file."""
    first = True
    while True:
        if isinstance(content, bytes):
            data, content = content[:size], content[size:]
        else:
            data = content.read(size)
        if not data:
            return
        yield node_pb2.AttachmentChunk(data=data, filename=filename if first else "")
        first = False


def _json(value: object) -> Any:
    """Arguments that are not plain JSON: pydantic-aware values as pydantic renders them,
    anything else (X.500 names, hashes, state refs) by its text form."""
    try:
        return to_jsonable_python(value)
    except PydanticSerializationError:
        return str(value)
