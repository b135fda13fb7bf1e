"""Who is calling and what they may do: HTTP Basic credentials checked against `RpcUsers`.

Every refusal names what is missing: the credentials' form, or the permission to grant.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable

import grpc

from dlt.rpc.server.errors import Context, Refusal, log
from dlt.rpc.users import RpcUser, RpcUsers, invoke_permission, start_flow_permission

AUTHORIZATION = "authorization"
BASIC = "basic"


async def authenticate(users: RpcUsers, context: Context) -> RpcUser:
    """The user whose password the call carries; scrypt, when a password was not verified
    before, runs on a worker thread."""
    username, password = credentials(context.invocation_metadata() or ())
    user = users.recently_verified(username, password)
    if user is None:
        user = await asyncio.to_thread(users.authenticate, username, password)
    if user is None:
        log.warning("RPC login refused for user %r from %s", username, context.peer())
        raise Refusal(grpc.StatusCode.UNAUTHENTICATED, "wrong username or password")
    return user


async def authorise(users: RpcUsers, context: Context, method: str) -> RpcUser:
    """The caller, if they may call `method` (`InvokeRpc.<method>` or ALL)."""
    user = await authenticate(users, context)
    permission = invoke_permission(method)
    if not user.may_invoke(method):
        raise Refusal(
            grpc.StatusCode.PERMISSION_DENIED,
            f"user {user.username!r} may not call {method}: it needs permission "
            f"{permission} (or ALL)",
        )
    return user


def authorise_flow(user: RpcUser, name: str) -> None:
    """Refuse unless `user` may start the flow `name` (`StartFlow.<name>` or ALL)."""
    if not user.may_start_flow(name):
        raise Refusal(
            grpc.StatusCode.PERMISSION_DENIED,
            f"user {user.username!r} may not start flow {name}: it needs permission "
            f"{start_flow_permission(name)} (or ALL)",
        )


def credentials(metadata: Iterable[tuple[str, str | bytes]]) -> tuple[str, str]:
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
    raise Refusal(
        grpc.StatusCode.UNAUTHENTICATED,
        "no valid credentials: send the RPC username and password as "
        "`authorization: Basic base64(username:password)` metadata",
    )
