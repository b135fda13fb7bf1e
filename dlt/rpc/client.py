"""An asyncio client for a node's RPC (dlt.rpc.v1.NodeRpc), with typed results and errors.

    async with RpcClient("127.0.0.1:10003", "ops", password, ca_pem) as client:
        run = await client.start_flow("test.IssueTokens", {"owner": "O=Bob, L=York, C=GB",
                                                           "amount": 10})
        async for step in run.progress():
            print(step)
        result = await run.result()        # a LedgerValue, or FlowFailedError

Every call result is a frozen dataclass mirroring the protocol message, with datetimes and
enums instead of protobuf types. Ledger objects come as `LedgerValue`: `data` is the node's
readable JSON rendering, `decode()` rebuilds the exact object from its canonical bytes when
the CorDapp that defines it is importable here.

gRPC failures become exceptions that say what to do about them: `RpcAuthError` (wrong or
missing credentials), `RpcPermissionError` (names the permission to ask for),
`RpcInvalidArgument` (names the bad field), `RpcNotFoundError`, `RpcUnavailable` (node down,
wrong address or a TLS problem), and `FlowFailedError` when a started flow fails on the node.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic_core import PydanticSerializationError, to_jsonable_python

from dlt.encoding import decode
from dlt.identity import X500Name, identity_host_name
from dlt.rpc.generated import node_pb2, node_pb2_grpc

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a unary call may take; following a flow has no limit, flows may run long."""

DEFAULT_CHUNK_SIZE: Final = 64 * 1024


class FlowStatus(enum.StrEnum):
    """Where a flow stands; the values of the node's own `dlt.flows.storage.FlowStatus`.

    Defined here rather than imported so that the client, and every `dlt` command, loads
    neither SQLAlchemy nor the node's engine just to talk to a node.
    """

    RUNNABLE = "runnable"
    HOSPITALISED = "hospitalised"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"


class StateStatus(enum.StrEnum):
    """Whether a state is spent (`ALL` for queries); the values of `dlt.vault.StateStatus`."""

    UNCONSUMED = "unconsumed"
    CONSUMED = "consumed"
    ALL = "all"


_FLOW_STATUS: Final[dict[int, FlowStatus]] = {
    node_pb2.FLOW_STATE_RUNNABLE: FlowStatus.RUNNABLE,
    node_pb2.FLOW_STATE_HOSPITALISED: FlowStatus.HOSPITALISED,
    node_pb2.FLOW_STATE_COMPLETED: FlowStatus.COMPLETED,
    node_pb2.FLOW_STATE_FAILED: FlowStatus.FAILED,
    node_pb2.FLOW_STATE_KILLED: FlowStatus.KILLED,
}
_FLOW_STATE: Final[dict[FlowStatus, int]] = {v: k for k, v in _FLOW_STATUS.items()}

_STATE_STATUS: Final[dict[int, StateStatus]] = {
    node_pb2.STATE_STATUS_UNCONSUMED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_CONSUMED: StateStatus.CONSUMED,
    node_pb2.STATE_STATUS_ALL: StateStatus.ALL,
}
_STATE_STATUS_VALUE: Final[dict[StateStatus, int]] = {v: k for k, v in _STATE_STATUS.items()}


# -- errors -----------------------------------------------------------------------------------


class RpcError(Exception):
    """A call to the node failed; `code` is the gRPC status name, the message says why."""

    def __init__(self, message: str, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.code = code


class RpcAuthError(RpcError):
    """The node did not accept the username and password."""


class RpcPermissionError(RpcError):
    """The user lacks a permission; the message names it (`StartFlow.<flow>`,
    `InvokeRpc.<method>` or `ALL`), for the node's operator to grant."""


class RpcInvalidArgument(RpcError):  # noqa: N818 - named after the status it stands for
    """The request was refused as it stands: bad flow arguments (per field), an unknown state
    type or column, a malformed id."""


class RpcNotFoundError(RpcError):
    """No such flow, transaction or attachment on that node."""


class RpcUnavailable(RpcError):  # noqa: N818 - named after the status it stands for
    """The node could not be reached: it is down, the address is wrong, or TLS failed (e.g.
    the CA certificate given is not the one that issued the node's certificate)."""


class FlowFailedError(RpcError):
    """The flow started but failed on the node; `error_type` is the node's error class."""

    def __init__(
        self, flow_id: str, error_type: str, remote_message: str, status: FlowStatus
    ) -> None:
        super().__init__(f"flow {flow_id} {status.value}: {error_type}: {remote_message}", "OK")
        self.flow_id = flow_id
        self.error_type = error_type
        self.remote_message = remote_message
        self.status = status


_ERRORS: Final[dict[grpc.StatusCode, type[RpcError]]] = {
    grpc.StatusCode.UNAUTHENTICATED: RpcAuthError,
    grpc.StatusCode.PERMISSION_DENIED: RpcPermissionError,
    grpc.StatusCode.INVALID_ARGUMENT: RpcInvalidArgument,
    grpc.StatusCode.NOT_FOUND: RpcNotFoundError,
    grpc.StatusCode.UNAVAILABLE: RpcUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: RpcUnavailable,
}


_UNAVAILABLE_HINTS: Final = (
    ("CERTIFICATE_VERIFY_FAILED", "the node's TLS certificate does not chain to the CA given"),
    (
        "Hostname Verification",
        "the node's TLS certificate does not carry the name asked for (the host connected to, "
        "or the identity of the node expected there): it is not that node",
    ),
    ("Connection refused", "nothing listens there; is the node running with RPC on that port?"),
    ("WRONG_VERSION_NUMBER", "that port does not speak TLS"),
)


def _mapped(error: grpc.aio.AioRpcError, address: str) -> RpcError:
    code = error.code()
    details = error.details() or code.name
    if code is grpc.StatusCode.UNAVAILABLE:
        hint = next((text for marker, text in _UNAVAILABLE_HINTS if marker in details), None)
        reason = hint or details
        details = f"cannot reach the node's RPC at {address}: {reason}"
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        details = f"the node at {address} did not answer in time"
    return _ERRORS.get(code, RpcError)(details, code.name)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerValue:
    """A ledger object: its type name, the node's JSON rendering, and its canonical bytes."""

    type_name: str
    data: Any
    encoded: bytes = field(repr=False)

    def decode(self) -> Any:
        """The exact object, rebuilt from its canonical encoding; the CorDapp defining its
        types must be imported (decoding constructs registered types only)."""
        return decode(self.encoded)


@dataclass(frozen=True)
class FlowInfo:
    flow_id: str
    flow_name: str
    status: FlowStatus
    arguments: Any
    peer: str | None
    started_at: datetime
    updated_at: datetime
    result: LedgerValue | None
    error_type: str | None
    error_message: str | None


@dataclass(frozen=True)
class VaultStateInfo:
    ref: str
    state_type: str
    contract: str
    notary: str
    status: StateStatus
    recorded_at: datetime
    consumed_at: datetime | None
    consuming_tx: str | None
    lock_id: str | None
    state: LedgerValue

    @property
    def data(self) -> Any:
        """The state's own fields, as rendered by the node."""
        return self.state.data.get("data") if isinstance(self.state.data, dict) else None


@dataclass(frozen=True)
class VaultPage:
    states: tuple[VaultStateInfo, ...]
    total_states_available: int
    page_number: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page_number * self.page_size < self.total_states_available


@dataclass(frozen=True)
class TransactionInfo:
    id: str
    transaction: LedgerValue


@dataclass(frozen=True)
class TransactionPage:
    transactions: tuple[TransactionInfo, ...]
    total: int
    page_number: int
    page_size: int


@dataclass(frozen=True)
class PeerInfo:
    name: str
    owning_key: str
    fingerprint: str
    addresses: tuple[str, ...]
    rpc_address: str | None
    platform_version: int
    serial: int


@dataclass(frozen=True)
class NotaryServiceInfo:
    name: str
    owning_key: str
    fingerprint: str
    validating: bool
    replicas: tuple[str, ...] = ()
    """X.500 names of the service's replica nodes."""


@dataclass(frozen=True)
class NetworkMapInfo:
    peers: tuple[PeerInfo, ...]
    notaries: tuple[NotaryServiceInfo, ...]
    epoch: int
    parameters_hash: str
    minimum_platform_version: int


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    size: int
    filename: str | None
    uploader: str | None


# -- vault query ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnCondition:
    """`column operator value` on a custom schema column; `value` is text the node converts
    to the column's type (`in`/`between`: a JSON array or comma-separated list)."""

    column: str
    operator: str
    value: str = ""
    state_type: str = ""


@dataclass(frozen=True)
class SortBy:
    """A standard column (recorded_at, consumed_at, state_type, txhash, output_index,
    lock_time) or a custom column of the queried state type."""

    column: str
    descending: bool = False


@dataclass(frozen=True)
class VaultQuery:
    """What to ask the vault; every part is optional. Page size 0 is the node's default."""

    status: StateStatus = StateStatus.UNCONSUMED
    state_types: Sequence[str] = ()
    participants: Sequence[str] = ()
    notaries: Sequence[str] = ()
    recorded_after: datetime | None = None
    recorded_before: datetime | None = None
    conditions: Sequence[ColumnCondition] = ()
    page_number: int = 1
    page_size: int = 0
    sort: Sequence[SortBy] = ()

    def to_request(self) -> node_pb2.VaultQueryRequest:
        request = node_pb2.VaultQueryRequest(
            status=_STATE_STATUS_VALUE[StateStatus(self.status)],
            state_types=list(self.state_types),
            participants=list(self.participants),
            notaries=list(self.notaries),
            conditions=[
                node_pb2.ColumnCondition(
                    state_type=c.state_type, column=c.column, operator=c.operator, value=c.value
                )
                for c in self.conditions
            ],
            page_number=self.page_number,
            page_size=self.page_size,
            sort=[node_pb2.SortKey(column=s.column, descending=s.descending) for s in self.sort],
        )
        if self.recorded_after is not None:
            request.recorded_after.CopyFrom(_timestamp(self.recorded_after))
        if self.recorded_before is not None:
            request.recorded_before.CopyFrom(_timestamp(self.recorded_before))
        return request


# -- following a flow -------------------------------------------------------------------------


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
                _FLOW_STATUS.get(failed.state, FlowStatus.FAILED),
            )
        completed = final.completed
        return _ledger_value(completed.result) if completed.HasField("result") else None

    def detach(self) -> None:
        """Stop following the flow; it keeps running on the node."""
        self._call.cancel()

    async def _next(self) -> node_pb2.FlowEvent:
        try:
            event = await self._call.read()
        except grpc.aio.AioRpcError as exc:
            raise _mapped(exc, self._address) from None
        if event is grpc.aio.EOF:
            raise RpcError(
                f"the node ended flow {self.flow_id}'s stream without its outcome; "
                "ask for it with flow_status",
            )
        return event  # type: ignore[no-any-return]


# -- the client -------------------------------------------------------------------------------


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
            raise _mapped(exc, self._where) from None

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
            raise _mapped(exc, self._where) from None
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
        return _flow_info(info)

    async def list_flows(self, statuses: Iterable[FlowStatus] = ()) -> list[FlowInfo]:
        """Flows on the node, oldest first; only those in `statuses` when given."""
        request = node_pb2.ListFlowsRequest(states=[_FLOW_STATE[s] for s in statuses])
        response = await self._unary(self._stub.ListFlows, request)
        return [_flow_info(info) for info in response.flows]

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
            raise _mapped(exc, self.address) from None
        finally:
            call.cancel()

    async def kill_flow(self, flow_id: str) -> FlowInfo:
        """Kill a running or parked flow; returns its status afterwards."""
        info = await self._unary(self._stub.KillFlow, node_pb2.KillFlowRequest(flow_id=flow_id))
        return _flow_info(info)

    # -- vault and transactions -------------------------------------------------------------

    async def vault_query(self, query: VaultQuery | None = None) -> VaultPage:
        response = await self._unary(self._stub.VaultQuery, (query or VaultQuery()).to_request())
        return VaultPage(
            states=tuple(_vault_state(state) for state in response.states),
            total_states_available=response.total_states_available,
            page_number=response.page_number,
            page_size=response.page_size,
        )

    async def get_transaction(self, tx_id: str) -> TransactionInfo:
        response = await self._unary(
            self._stub.GetTransaction, node_pb2.GetTransactionRequest(id=tx_id)
        )
        return _transaction(response)

    async def list_transactions(self, page_number: int = 1, page_size: int = 0) -> TransactionPage:
        """Recorded transactions, oldest first; page size 0 is the node's default."""
        response = await self._unary(
            self._stub.ListTransactions,
            node_pb2.ListTransactionsRequest(page_number=page_number, page_size=page_size),
        )
        return TransactionPage(
            transactions=tuple(_transaction(tx) for tx in response.transactions),
            total=response.total,
            page_number=response.page_number,
            page_size=response.page_size,
        )

    # -- network ----------------------------------------------------------------------------

    async def node_info(self) -> PeerInfo:
        return _peer(await self._unary(self._stub.NodeInfo, node_pb2.NodeInfoRequest()))

    async def network_map(self) -> NetworkMapInfo:
        response = await self._unary(self._stub.NetworkMap, node_pb2.NetworkMapRequest())
        return NetworkMapInfo(
            peers=tuple(_peer(peer) for peer in response.peers),
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
                raise _mapped(exc, self._where) from None
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
            raise _mapped(exc, self._where) from None

    async def download_attachment(self, attachment_id: str) -> bytes:
        return b"".join([chunk async for chunk in self.attachment_chunks(attachment_id)])


# -- conversions ------------------------------------------------------------------------------


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


def _ledger_value(value: node_pb2.LedgerValue) -> LedgerValue:
    return LedgerValue(
        type_name=value.type_name,
        data=json.loads(value.json) if value.json else None,
        encoded=value.encoded,
    )


def _optional_value(message: Any, name: str) -> LedgerValue | None:
    return _ledger_value(getattr(message, name)) if message.HasField(name) else None


def _flow_info(info: node_pb2.FlowInfo) -> FlowInfo:
    return FlowInfo(
        flow_id=info.flow_id,
        flow_name=info.flow_name,
        status=_FLOW_STATUS.get(info.state, FlowStatus.RUNNABLE),
        arguments=json.loads(info.arguments_json) if info.arguments_json else None,
        peer=info.peer or None,
        started_at=_datetime(info.started_at),
        updated_at=_datetime(info.updated_at),
        result=_optional_value(info, "result"),
        error_type=info.error_type or None,
        error_message=info.error_message or None,
    )


def _vault_state(state: node_pb2.VaultState) -> VaultStateInfo:
    return VaultStateInfo(
        ref=state.ref,
        state_type=state.state_type,
        contract=state.contract,
        notary=state.notary,
        status=_STATE_STATUS.get(state.status, StateStatus.UNCONSUMED),
        recorded_at=_datetime(state.recorded_at),
        consumed_at=_datetime(state.consumed_at) if state.HasField("consumed_at") else None,
        consuming_tx=state.consuming_tx or None,
        lock_id=state.lock_id or None,
        state=_ledger_value(state.state),
    )


def _transaction(tx: node_pb2.Transaction) -> TransactionInfo:
    return TransactionInfo(id=tx.id, transaction=_ledger_value(tx.transaction))


def _peer(peer: node_pb2.Peer) -> PeerInfo:
    return PeerInfo(
        name=peer.identity.name,
        owning_key=peer.identity.owning_key,
        fingerprint=peer.identity.fingerprint,
        addresses=tuple(peer.addresses),
        rpc_address=peer.rpc_address or None,
        platform_version=peer.platform_version,
        serial=peer.serial,
    )


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def as_json(value: object) -> Any:
    """A result of this client as JSON data, for `--json` output: ledger values as their
    type and rendering (not their bytes), datetimes in ISO 8601, enums by value."""
    if isinstance(value, LedgerValue):
        return {"type": value.type_name, "value": value.data}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    return value
