"""The node's operator RPC: a gRPC service (dlt.rpc.v1.NodeRpc) over TLS, for RPC users.

Every call is authenticated by username and password (HTTP Basic in the `authorization`
metadata entry) against the node's `RpcUsers`, then authorised: `StartFlow.<flow name>` to start
a flow, `InvokeRpc.<method>` for anything else, or `ALL`. TLS is not optional: passwords travel
in the metadata. The server presents the node's TLS certificate chain; with a client CA it also
demands client certificates (mutual TLS) on top of the passwords.

The server runs on the node's event loop, so it calls the flow engine and the vault directly;
database work runs on the database's own threads and scrypt on a worker thread, so a slow
client or a password check never stalls the node's flows.

Errors reach the client as gRPC status codes with one readable sentence: UNAUTHENTICATED,
PERMISSION_DENIED (naming the missing permission), INVALID_ARGUMENT (bad flow arguments with
pydantic's complaints per field, bad query criteria), NOT_FOUND, and INTERNAL for a failure of
the node itself (logged here with its traceback). A flow that fails after it started is not a
call error: StartFlow reports it in its final FlowFailed event.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, NoReturn, TypeVar

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dlt.crypto import SecureHash
from dlt.encoding import DecodingError, EncodingError, decode, encode, registered_type
from dlt.flows.api import FlowLogic
from dlt.flows.errors import FlowNotFoundError, FlowRegistrationError
from dlt.flows.registry import registered_flows
from dlt.flows.storage import FlowRecord, FlowStatus
from dlt.identity import Party, X500Name
from dlt.identity.certificates import cert_to_pem
from dlt.identity.hierarchy import NodeCertificates
from dlt.ledger import Attachment, ContractState, SignedTransaction
from dlt.node.node import Node
from dlt.node.node_info import NodeInfo
from dlt.rpc import render
from dlt.rpc.generated import node_pb2, node_pb2_grpc
from dlt.rpc.users import RpcUser, RpcUsers, invoke_permission, start_flow_permission
from dlt.vault import (
    DEFAULT_PAGE_SIZE,
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Operator,
    PageSpecification,
    QueryCriteria,
    Sort,
    SortKey,
    StandardColumn,
    StateStatus,
    VaultQueryCriteria,
    VaultQueryError,
    count_transactions,
    list_transactions,
    load_attachment,
    store_attachment,
)
from dlt.vault.custom_schemas import require_schema
from dlt.vault.transaction_store import load_encoded

log = logging.getLogger(__name__)

T = TypeVar("T")

Context = grpc.aio.ServicerContext

AUTHORIZATION = "authorization"
BASIC = "basic"

DEFAULT_CHUNK_SIZE = 64 * 1024
"""Attachment bytes per streamed message: far below gRPC's 4 MiB message limit."""

DEFAULT_MAX_ATTACHMENT_SIZE = 64 * 1024 * 1024
"""The largest upload accepted; it is held in memory while its hash is computed."""

MAX_FILENAME = 255

FLOW_STATES: dict[FlowStatus, int] = {
    FlowStatus.RUNNABLE: node_pb2.FLOW_STATE_RUNNABLE,
    FlowStatus.HOSPITALISED: node_pb2.FLOW_STATE_HOSPITALISED,
    FlowStatus.COMPLETED: node_pb2.FLOW_STATE_COMPLETED,
    FlowStatus.FAILED: node_pb2.FLOW_STATE_FAILED,
    FlowStatus.KILLED: node_pb2.FLOW_STATE_KILLED,
}
FLOW_STATUSES: dict[int, FlowStatus] = {v: k for k, v in FLOW_STATES.items()}

STATE_STATUSES: dict[int, StateStatus] = {
    node_pb2.STATE_STATUS_UNSPECIFIED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_UNCONSUMED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_CONSUMED: StateStatus.CONSUMED,
    node_pb2.STATE_STATUS_ALL: StateStatus.ALL,
}
STATE_STATUS_VALUES: dict[StateStatus, int] = {
    StateStatus.UNCONSUMED: node_pb2.STATE_STATUS_UNCONSUMED,
    StateStatus.CONSUMED: node_pb2.STATE_STATUS_CONSUMED,
}


@dataclass(frozen=True)
class RpcTls:
    """The server's TLS material: a PEM certificate chain (leaf first) and its PEM key.

    With `client_ca_pem`, clients must present a certificate issued under it (mutual TLS).
    """

    cert_chain_pem: bytes
    key_pem: bytes
    client_ca_pem: bytes | None = None

    @classmethod
    def from_node_certificates(
        cls, certs: NodeCertificates, client_ca_pem: bytes | None = None
    ) -> RpcTls:
        """Serve with the node's TLS certificate, the one its peers already trust, chained up
        to the network root so a client needs only the root certificate."""
        chain = b"".join(cert_to_pem(cert) for cert in certs.tls_chain)
        return cls(chain, certs.tls_key.to_pem(), client_ca_pem)


class RpcServerError(Exception):
    """The server could not start, e.g. its address is taken."""


class _Refusal(Exception):  # noqa: N818 - internal; becomes a gRPC status, never escapes
    """A call ends with `code` and a message meant for the caller."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
        node_pb2_grpc.add_NodeRpcServicer_to_server(_NodeRpc(self), server)
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


class _NodeRpc(node_pb2_grpc.NodeRpcServicer):
    """The service's methods; the names are the protocol's, hence CamelCase."""

    def __init__(self, server: RpcServer) -> None:
        self._server = server
        self._node = server.node
        self._users = server.users

    # -- authentication and errors ----------------------------------------------------------

    async def _authenticate(self, context: Context) -> RpcUser:
        username, password = _credentials(context.invocation_metadata() or ())
        user = await asyncio.to_thread(self._users.authenticate, username, password)
        if user is None:
            log.warning("RPC login refused for user %r from %s", username, context.peer())
            raise _Refusal(grpc.StatusCode.UNAUTHENTICATED, "wrong username or password")
        return user

    async def _authorise(self, context: Context, method: str) -> RpcUser:
        user = await self._authenticate(context)
        permission = invoke_permission(method)
        if not user.may_invoke(method):
            raise _Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"user {user.username!r} may not call {method}: it needs permission "
                f"{permission} (or ALL)",
            )
        return user

    async def _unary(
        self, context: Context, method: str, work: Callable[[RpcUser], Awaitable[T]]
    ) -> T:
        """Authorise the caller for `method`, then answer with `work`."""
        try:
            user = await self._authorise(context, method)
            return await work(user)
        except Exception as exc:
            await self._fail(context, method, exc)

    async def _fail(self, context: Context, method: str, exc: Exception) -> NoReturn:
        """End the call with a status code and a sentence the caller can act on."""
        if isinstance(exc, grpc.aio.AbortError):
            raise exc
        if isinstance(exc, _Refusal):
            await _abort(context, exc.code, exc.message)
        if isinstance(exc, VaultQueryError | FlowRegistrationError):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if isinstance(exc, FlowNotFoundError):
            await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
        log.error("RPC %s failed", method, exc_info=exc)
        await _abort(
            context,
            grpc.StatusCode.INTERNAL,
            f"{method} failed on the node: {type(exc).__name__}: {exc}",
        )

    # -- flows ------------------------------------------------------------------------------

    async def StartFlow(  # noqa: N802
        self, request: node_pb2.StartFlowRequest, context: Context
    ) -> AsyncIterator[node_pb2.FlowEvent]:
        try:
            user = await self._authenticate(context)
            flow = self._flow_to_start(user, request.flow_name, request.arguments_json or "{}")
            async for event in self._follow(flow, request.flow_name):
                yield event
        except Exception as exc:
            await self._fail(context, "StartFlow", exc)

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
                    state=FLOW_STATES[record.status],
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
            raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, "no flow name given")
        if not user.may_start_flow(name):
            raise _Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"user {user.username!r} may not start flow {name}: it needs permission "
                f"{start_flow_permission(name)} (or ALL)",
            )
        flows = registered_flows()
        cls = flows.get(name)
        if cls is None:
            startable = sorted(n for n, c in flows.items() if c.startable_by_rpc)
            raise _Refusal(
                grpc.StatusCode.NOT_FOUND,
                f"no flow is registered as {name!r} on {self._node.name}; flows startable by "
                f"RPC: {', '.join(startable) or 'none'}",
            )
        if not cls.startable_by_rpc:
            raise _Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"flow {name} cannot be started by RPC: its CorDapp does not register it with "
                "@flow(..., rpc=True)",
            )
        try:
            return cls.model_validate_json(arguments)
        except ValidationError as exc:
            raise _Refusal(
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
            statuses = [_flow_status(state) for state in request.states] or None
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
            await self._fail(context, "TrackFlow", exc)

    async def KillFlow(  # noqa: N802
        self, request: node_pb2.KillFlowRequest, context: Context
    ) -> node_pb2.FlowInfo:
        async def work(user: RpcUser) -> node_pb2.FlowInfo:
            log.warning("RPC user %s kills flow %s", user.username, request.flow_id)
            await self._node.engine.kill_flow(request.flow_id)
            return self._flow_info(await self._node.engine.flow_status(request.flow_id))

        return await self._unary(context, "KillFlow", work)

    def _flow_info(self, record: FlowRecord) -> node_pb2.FlowInfo:
        info = node_pb2.FlowInfo(
            flow_id=record.flow_id,
            flow_name=record.flow_name,
            state=FLOW_STATES[record.status],
            arguments_json=record.arguments or "",
            peer=record.peer or "",
            started_at=_timestamp_from_micros(record.started_at),
            updated_at=_timestamp_from_micros(record.updated_at),
            error_type=record.error_type or "",
            error_message=record.error_message or "",
        )
        if record.result is not None:
            try:
                result = decode(record.result)
            except DecodingError as exc:
                info.result.CopyFrom(
                    node_pb2.LedgerValue(
                        type_name="undecodable",
                        json=json.dumps(f"the node cannot decode this result: {exc}"),
                        encoded=record.result,
                    )
                )
            else:
                if result is not None:
                    info.result.CopyFrom(self._ledger_value(result, record.result))
        return info

    # -- vault ------------------------------------------------------------------------------

    async def VaultQuery(  # noqa: N802
        self, request: node_pb2.VaultQueryRequest, context: Context
    ) -> node_pb2.VaultPage:
        async def work(user: RpcUser) -> node_pb2.VaultPage:
            criteria, sort = self._criteria(request)
            paging = PageSpecification(
                page_number=request.page_number or 1,
                page_size=request.page_size or DEFAULT_PAGE_SIZE,
            )
            page = await self._node.services.vault.query(criteria, paging, sort)
            response = node_pb2.VaultPage(
                total_states_available=page.total_states_available,
                page_number=page.page_number,
                page_size=page.page_size,
            )
            for sar, meta in zip(page.states, page.metadata, strict=True):
                state = response.states.add(
                    ref=str(sar.ref),
                    state_type=meta.state_type,
                    contract=meta.contract,
                    notary=meta.notary_name,
                    status=STATE_STATUS_VALUES[meta.status],
                    recorded_at=_timestamp(meta.recorded_at),
                    consuming_tx="" if meta.consuming_tx is None else str(meta.consuming_tx),
                    lock_id=meta.lock_id or "",
                    state=self._ledger_value(sar),
                )
                if meta.consumed_at is not None:
                    state.consumed_at.CopyFrom(_timestamp(meta.consumed_at))
            return response

        return await self._unary(context, "VaultQuery", work)

    def _criteria(self, request: node_pb2.VaultQueryRequest) -> tuple[QueryCriteria, Sort]:
        """The vault's criteria and sort for the request; bad names and values are refused
        with INVALID_ARGUMENT saying which one."""
        state_types = tuple(_state_type(name) for name in request.state_types)
        criteria: QueryCriteria = VaultQueryCriteria(
            status=STATE_STATUSES.get(request.status, StateStatus.UNCONSUMED),
            state_types=state_types,
            participants=tuple(self._party(name, "participant") for name in request.participants),
            notary=tuple(self._party(name, "notary") for name in request.notaries),
            recorded_after=(
                _datetime(request.recorded_after) if request.HasField("recorded_after") else None
            ),
            recorded_before=(
                _datetime(request.recorded_before) if request.HasField("recorded_before") else None
            ),
        )
        for condition in request.conditions:
            criteria = criteria & _column_condition(condition, state_types)
        keys = [_sort_key(key, state_types) for key in request.sort]
        return criteria, Sort(tuple(keys))

    def _party(self, name: str, role: str) -> Party:
        try:
            x500 = X500Name.parse(name)
        except ValueError as exc:
            raise _Refusal(
                grpc.StatusCode.INVALID_ARGUMENT, f"{role} {name!r} is not an X.500 name: {exc}"
            ) from exc
        party = self._node.services.identity.party_from_name(x500)
        if party is None:
            raise _Refusal(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{role} {name!r} is not known to {self._node.name}; see `dlt network peers`",
            )
        return party

    # -- transactions -----------------------------------------------------------------------

    async def GetTransaction(  # noqa: N802
        self, request: node_pb2.GetTransactionRequest, context: Context
    ) -> node_pb2.Transaction:
        async def work(user: RpcUser) -> node_pb2.Transaction:
            tx_id = _hash(request.id, "transaction id")
            stored = await self._node.db.read(lambda s: load_encoded(s, [tx_id]))
            data = stored.get(tx_id)
            if data is None:
                raise _Refusal(
                    grpc.StatusCode.NOT_FOUND, f"{self._node.name} has no transaction {tx_id}"
                )
            return self._transaction(decode(data, SignedTransaction), data)

        return await self._unary(context, "GetTransaction", work)

    async def ListTransactions(  # noqa: N802
        self, request: node_pb2.ListTransactionsRequest, context: Context
    ) -> node_pb2.TransactionPage:
        async def work(user: RpcUser) -> node_pb2.TransactionPage:
            paging = PageSpecification(
                page_number=request.page_number or 1,
                page_size=request.page_size or DEFAULT_PAGE_SIZE,
            )

            def read(session: Session) -> tuple[tuple[SignedTransaction, ...], int]:
                return list_transactions(session, paging), count_transactions(session)

            stxs, total = await self._node.db.read(read)
            return node_pb2.TransactionPage(
                transactions=[self._transaction(stx) for stx in stxs],
                total=total,
                page_number=paging.page_number,
                page_size=paging.page_size,
            )

        return await self._unary(context, "ListTransactions", work)

    def _transaction(
        self, stx: SignedTransaction, data: bytes | None = None
    ) -> node_pb2.Transaction:
        """The transaction with its stored bytes when we have them: they are what was hashed
        and signed, so they are sent as they are rather than encoded again."""
        return node_pb2.Transaction(id=str(stx.id), transaction=self._ledger_value(stx, data))

    def _ledger_value(self, value: object, encoded: bytes | None = None) -> node_pb2.LedgerValue:
        if isinstance(value, SignedTransaction):
            rendered = render.transaction_json(value, self._node.services.identity.describe)
        else:
            rendered = render.to_json(value)
        if encoded is None:
            try:
                encoded = encode(value)
            except EncodingError:
                encoded = b""
        return node_pb2.LedgerValue(
            type_name=render.type_name(value), json=json.dumps(rendered), encoded=encoded
        )

    # -- network ----------------------------------------------------------------------------

    async def NodeInfo(  # noqa: N802
        self, request: node_pb2.NodeInfoRequest, context: Context
    ) -> node_pb2.Peer:
        async def work(user: RpcUser) -> node_pb2.Peer:
            return _peer(self._node.info)

        return await self._unary(context, "NodeInfo", work)

    async def NetworkMap(  # noqa: N802
        self, request: node_pb2.NetworkMapRequest, context: Context
    ) -> node_pb2.NetworkMapResponse:
        async def work(user: RpcUser) -> node_pb2.NetworkMapResponse:
            network_map = self._node.network_map
            parameters = network_map.parameters
            peers = sorted(network_map.nodes, key=lambda info: str(info.name))
            return node_pb2.NetworkMapResponse(
                peers=[_peer(info) for info in peers],
                notaries=[
                    node_pb2.NotaryService(
                        identity=_party_info(notary.identity),
                        validating=notary.validating,
                        replicas=[_party_info(replica) for replica in notary.replica_parties],
                    )
                    for notary in parameters.notaries
                ],
                epoch=parameters.epoch,
                parameters_hash=str(parameters.hash),
                minimum_platform_version=parameters.minimum_platform_version,
            )

        return await self._unary(context, "NetworkMap", work)

    # -- attachments ------------------------------------------------------------------------

    async def UploadAttachment(  # noqa: N802
        self, request_iterator: AsyncIterator[node_pb2.AttachmentChunk], context: Context
    ) -> node_pb2.AttachmentInfo:
        async def work(user: RpcUser) -> node_pb2.AttachmentInfo:
            limit = self._server.max_attachment_size
            parts: list[bytes] = []
            size = 0
            filename = ""
            async for chunk in request_iterator:
                filename = filename or chunk.filename
                size += len(chunk.data)
                if size > limit:
                    raise _Refusal(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"the attachment is larger than the {limit} bytes this node accepts",
                    )
                parts.append(chunk.data)
            if size == 0:
                raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, "the attachment is empty")
            attachment = Attachment(b"".join(parts))
            name = _safe_filename(filename)
            clock = self._node.services.clock
            await self._node.db.write(
                lambda s: store_attachment(
                    s, attachment, uploader=user.username, filename=name, uploaded_at=clock()
                )
            )
            log.info("RPC user %s uploaded attachment %s", user.username, attachment.id)
            return node_pb2.AttachmentInfo(
                id=str(attachment.id), size=size, filename=name or "", uploader=user.username
            )

        return await self._unary(context, "UploadAttachment", work)

    async def DownloadAttachment(  # noqa: N802
        self, request: node_pb2.DownloadAttachmentRequest, context: Context
    ) -> AsyncIterator[node_pb2.AttachmentChunk]:
        try:
            await self._authorise(context, "DownloadAttachment")
            attachment_id = _hash(request.id, "attachment id")
            attachment = await self._node.db.read(lambda s: load_attachment(s, attachment_id))
            if attachment is None:
                raise _Refusal(
                    grpc.StatusCode.NOT_FOUND,
                    f"{self._node.name} has no attachment {attachment_id}",
                )
            data = attachment.data
            step = self._server.chunk_size
            yield node_pb2.AttachmentChunk(data=data[:step], total_size=len(data))
            for offset in range(step, len(data), step):
                yield node_pb2.AttachmentChunk(data=data[offset : offset + step])
        except Exception as exc:
            await self._fail(context, "DownloadAttachment", exc)


# -- helpers ----------------------------------------------------------------------------------


async def _abort(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, " ".join(message.split()))
    raise AssertionError("unreachable: abort raises")


def _credentials(metadata: Iterable[tuple[str, str | bytes]]) -> tuple[str, str]:
    """(username, password) from `authorization: Basic base64(user:password)`."""
    for key, value in metadata:
        if key.lower() != AUTHORIZATION:
            continue
        text = value.decode() if isinstance(value, bytes) else value
        scheme, _, token = text.partition(" ")
        if scheme.lower() != BASIC:
            break
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            break
        username, sep, password = decoded.partition(":")
        if sep and username:
            return username, password
        break
    raise _Refusal(
        grpc.StatusCode.UNAUTHENTICATED,
        "no valid credentials: send the RPC username and password as "
        "`authorization: Basic base64(username:password)` metadata",
    )


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


def _flow_status(state: int) -> FlowStatus:
    status = FLOW_STATUSES.get(state)
    if status is None:
        raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"unknown flow state {state}")
    return status


def _state_type(name: str) -> type[ContractState]:
    try:
        cls = registered_type(name)
    except DecodingError as exc:
        raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
    if not (isinstance(cls, type) and issubclass(cls, ContractState)):
        raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"{name!r} is not a state type")
    return cls


def _one_state_type(
    explicit: str, state_types: Sequence[type[ContractState]], column: str
) -> type[ContractState]:
    if explicit:
        return _state_type(explicit)
    if len(state_types) == 1:
        return state_types[0]
    raise _Refusal(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"column {column!r} belongs to a state type's schema: query exactly one state type "
        "or name it as <state type>.<column>",
    )


def _split_column(text: str, state_types: Sequence[type[ContractState]]) -> tuple[str, str]:
    """("", column) or (state type, column) from "column" or "<state type>.<column>"."""
    if "." in text and len(state_types) != 1:
        state_type, _, column = text.rpartition(".")
        return state_type, column
    return "", text


def _column_condition(
    condition: node_pb2.ColumnCondition, state_types: Sequence[type[ContractState]]
) -> CustomColumnCriteria:
    type_name, column = (
        (condition.state_type, condition.column)
        if condition.state_type
        else _split_column(condition.column, state_types)
    )
    state_type = _one_state_type(type_name, state_types, column)
    python_type = _python_type(state_type, column)
    try:
        operator = Operator(condition.operator.strip().lower())
    except ValueError:
        raise _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"operator {condition.operator!r} is not one of {' '.join(o.value for o in Operator)}",
        ) from None
    value = _column_value(operator, condition.value, python_type, column)
    return CustomColumnCriteria(state_type, column, operator, value)


def _python_type(state_type: type[ContractState], column: str) -> type:
    sql_column = require_schema(state_type).column(column)
    try:
        return sql_column.type.python_type
    except NotImplementedError:
        return str


def _column_value(operator: Operator, text: str, python_type: type, column: str) -> Any:
    """The condition's value, given as text, converted to what the column holds."""
    if operator is Operator.IS_NULL:
        flag = text.strip().lower()
        if flag in ("", "true", "yes", "1"):
            return True
        if flag in ("false", "no", "0"):
            return False
        raise _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"'is_null' on {column!r} takes true or false, got {text!r}",
        )
    if operator in (Operator.IN, Operator.BETWEEN):
        return tuple(_convert(item, python_type, column) for item in _list_value(text))
    if operator is Operator.LIKE:
        return text
    return _convert(text, python_type, column)


def _list_value(text: str) -> list[str]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise _Refusal(
                grpc.StatusCode.INVALID_ARGUMENT, f"{text!r} is not a JSON array: {exc}"
            ) from exc
        if not isinstance(items, list):
            raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"{text!r} is not a JSON array")
        return [item if isinstance(item, str) else json.dumps(item) for item in items]
    return [item.strip() for item in stripped.split(",") if item.strip()]


def _convert(text: str, python_type: type, column: str) -> Any:
    try:
        if python_type is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError("expected true or false")
            return lowered == "true"
        if python_type is int:
            return int(text)
        if python_type is float:
            return float(text)
        if python_type is datetime:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError("give a time zone, e.g. 2024-05-01T12:00:00+00:00")
            return moment
    except ValueError as exc:
        raise _Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"column {column!r} holds {python_type.__name__} values; {text!r} is not one ({exc})",
        ) from None
    return text


def _sort_key(key: node_pb2.SortKey, state_types: Sequence[type[ContractState]]) -> SortKey:
    direction = Direction.DESC if key.descending else Direction.ASC
    if key.column in {c.value for c in StandardColumn}:
        return SortKey(StandardColumn(key.column), direction)
    type_name, column = _split_column(key.column, state_types)
    return SortKey(CustomColumn(_one_state_type(type_name, state_types, column), column), direction)


def _hash(text: str, what: str) -> SecureHash:
    try:
        return SecureHash.parse(text.strip().lower())
    except ValueError as exc:
        raise _Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"bad {what}: {exc}") from exc


def _safe_filename(name: str) -> str | None:
    """Only the last path component, so a stored name never points anywhere."""
    base = PureWindowsPath(PurePosixPath(name).name).name.strip()
    return base[:MAX_FILENAME] or None


def _party_info(party: Party) -> node_pb2.PartyInfo:
    return node_pb2.PartyInfo(
        name=str(party.name),
        owning_key=party.owning_key.to_string(),
        fingerprint=str(party.owning_key.fingerprint),
    )


def _peer(info: NodeInfo) -> node_pb2.Peer:
    return node_pb2.Peer(
        identity=_party_info(info.legal_identity),
        addresses=list(info.addresses),
        rpc_address=info.rpc_address or "",
        platform_version=info.platform_version,
        serial=info.serial,
    )


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _timestamp_from_micros(micros: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(micros)
    return stamp


def _datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)
