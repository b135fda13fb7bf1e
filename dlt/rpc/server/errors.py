"""How a call fails: a refusal or an error becomes a gRPC status with one readable sentence."""

from __future__ import annotations

import logging
from typing import NoReturn

import grpc
import grpc.aio

from dlt.flows.errors import FlowNotFoundError, FlowRegistrationError
from dlt.vault import VaultQueryError

# The package's logger, so every module's lines keep the one name `dlt.rpc.server`.
log = logging.getLogger(__package__)

Context = grpc.aio.ServicerContext


class RpcServerError(Exception):
    """The server could not start, e.g. its address is taken."""


class Refusal(Exception):  # noqa: N818 - internal; becomes a gRPC status, never escapes
    """A call ends with `code` and a message meant for the caller."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def fail(context: Context, method: str, exc: Exception) -> NoReturn:
    """End the call with a status code and a sentence the caller can act on."""
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    if isinstance(exc, Refusal):
        await abort(context, exc.code, exc.message)
    if isinstance(exc, VaultQueryError | FlowRegistrationError):
        await abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    if isinstance(exc, FlowNotFoundError):
        await abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
    log.error("RPC %s failed", method, exc_info=exc)
    await abort(
        context,
        grpc.StatusCode.INTERNAL,
        f"{method} failed on the node: {type(exc).__name__}: {exc}",
    )


async def abort(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call; the message is folded onto one line."""
    await context.abort(code, " ".join(message.split()))
    raise AssertionError("unreachable: abort raises")
