"""The client's errors: each gRPC failure as an exception that says what to do about it."""

from __future__ import annotations

from typing import Final

import grpc
import grpc.aio

from dlt.rpc.client.results import FlowStatus


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


def mapped(error: grpc.aio.AioRpcError, address: str) -> RpcError:
    """The exception for a failed call to the node at `address`, with a hint when it is known
    why the node could not be reached."""
    code = error.code()
    details = error.details() or code.name
    if code is grpc.StatusCode.UNAVAILABLE:
        hint = next((text for marker, text in _UNAVAILABLE_HINTS if marker in details), None)
        reason = hint or details
        details = f"cannot reach the node's RPC at {address}: {reason}"
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        details = f"the node at {address} did not answer in time"
    return _ERRORS.get(code, RpcError)(details, code.name)
