"""RPC users: who may call a node's RPC, with which password, and what they may do.

A node's configuration lists its users with a salted scrypt hash of each password, never the
password itself, so a leaked configuration file does not hand out access. Hash a password for
the configuration with `hash_password`, or run `python -m dlt.rpc.users` and type it.

Permissions, as in Corda:

- `ALL`: everything.
- `StartFlow.<flow name>`: start that flow (which must also be registered with `rpc=True`),
  e.g. `StartFlow.test.IssueTokens`.
- `InvokeRpc.<method>`: call one of the other RPC methods, e.g. `InvokeRpc.VaultQuery`.

Permissions are checked when the user list is built, so a typo such as `InvokeRpc.vaultQuery`
stops the node from starting instead of silently granting nothing.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import secrets
import sys
import threading
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from dlt.rpc.generated import node_pb2

PERMISSION_ALL: Final = "ALL"
START_FLOW: Final = "StartFlow"
INVOKE_RPC: Final = "InvokeRpc"

RPC_METHODS: Final[frozenset[str]] = frozenset(
    node_pb2.DESCRIPTOR.services_by_name["NodeRpc"].methods_by_name
)
"""Every method of the NodeRpc service, taken from the generated descriptor so they agree."""

INVOKABLE_METHODS: Final[frozenset[str]] = RPC_METHODS - {START_FLOW}
"""Methods governed by `InvokeRpc.<method>`; starting a flow is governed per flow instead."""

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
HASH_SCHEME: Final = "scrypt"
_SCRYPT_MAXMEM: Final = 64 * 1024 * 1024


class PasswordHashError(ValueError):
    """A stored password hash is not in the `scrypt$N$r$p$salt$hash` form `hash_password` writes."""


def hash_password(
    password: str,
    *,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
    salt: bytes | None = None,
) -> str:
    """The text to put in a user's `password_hash`: `scrypt$N$r$p$<salt>$<hash>` (base64).

    scrypt is memory-hard, so guessing passwords from a stolen hash is slow even on GPUs; the
    random salt makes equal passwords hash differently. The cost parameters travel with the
    hash, so they can be raised later without invalidating existing entries.
    """
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, n, r, p)
    return "$".join((HASH_SCHEME, str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`, compared in constant time."""
    n, r, p, salt, expected = _parse_hash(password_hash)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(expected)), expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=size, maxmem=_SCRYPT_MAXMEM
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_hash(password_hash: str) -> tuple[int, int, int, bytes, bytes]:
    parts = password_hash.split("$")
    if len(parts) != 6 or parts[0] != HASH_SCHEME:
        raise PasswordHashError(
            "a password hash looks like scrypt$N$r$p$<salt>$<hash>; make one with "
            "`python -m dlt.rpc.users`"
        )
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError as exc:
        raise PasswordHashError(f"malformed scrypt password hash: {exc}") from None
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or not salt or len(digest) < 16:
        raise PasswordHashError(
            "scrypt password hash has invalid parameters (N a power of two, r and p at least "
            "1, a salt and a hash of at least 16 bytes)"
        )
    return n, r, p, salt, digest


def check_permission(permission: str) -> str:
    """`permission` if it is well formed, else a ValueError saying what is accepted."""
    if permission == PERMISSION_ALL:
        return permission
    kind, dot, target = permission.partition(".")
    if dot and target and kind == START_FLOW:
        return permission
    if dot and kind == INVOKE_RPC:
        if target in INVOKABLE_METHODS:
            return permission
        if target == START_FLOW:
            raise ValueError(
                "flows are granted one by one: use StartFlow.<flow name> instead of "
                "InvokeRpc.StartFlow"
            )
        close = [m for m in INVOKABLE_METHODS if m.lower() == target.lower()]
        hint = f"; did you mean InvokeRpc.{close[0]}?" if close else ""
        raise ValueError(
            f"unknown RPC method in {permission!r}{hint} (methods: "
            f"{', '.join(sorted(INVOKABLE_METHODS))})"
        )
    raise ValueError(
        f"unknown permission {permission!r}; use ALL, StartFlow.<flow name> or InvokeRpc.<method>"
    )


def start_flow_permission(flow_name: str) -> str:
    return f"{START_FLOW}.{flow_name}"


def invoke_permission(method: str) -> str:
    return f"{INVOKE_RPC}.{method}"


Username = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^:\s]+$")]
"""No colon (it separates user from password in Basic credentials) and no whitespace."""


class RpcUser(BaseModel):
    """One RPC user: a name, a password hash from `hash_password`, and permissions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: Username
    password_hash: str
    permissions: frozenset[str] = frozenset()

    @field_validator("password_hash")
    @classmethod
    def _well_formed_hash(cls, value: str) -> str:
        _parse_hash(value)
        return value

    @field_validator("permissions")
    @classmethod
    def _known_permissions(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(check_permission(permission) for permission in value)

    def has(self, permission: str) -> bool:
        """Whether this user holds `permission`, directly or through ALL."""
        return PERMISSION_ALL in self.permissions or permission in self.permissions

    def may_start_flow(self, flow_name: str) -> bool:
        return self.has(start_flow_permission(flow_name))

    def may_invoke(self, method: str) -> bool:
        return self.has(invoke_permission(method))


class RpcUsers(BaseModel):
    """A node's RPC users, checked for duplicate names.

    `authenticate` runs scrypt, which takes tens of milliseconds on purpose; so that a client
    making many calls does not pay it on each, the last password that verified for each user
    is remembered as an HMAC under a key that lives only in this process (never the
    password), and compared in constant time. A wrong password always costs a full scrypt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: tuple[RpcUser, ...] = ()

    _verified: dict[str, bytes] = PrivateAttr(default_factory=dict)
    _cache_key: bytes = PrivateAttr(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _unique_names(self) -> RpcUsers:
        names = [user.username for user in self.users]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"RPC usernames must be unique; repeated: {', '.join(repeated)}")
        return self

    def user(self, username: str) -> RpcUser | None:
        for user in self.users:
            if user.username == username:
                return user
        return None

    def recently_verified(self, username: str, password: str) -> RpcUser | None:
        """The user if this very password was verified for them before, without scrypt (cheap
        enough for the event loop); None means `authenticate` must decide."""
        user = self.user(username)
        if user is None or not self._cached(username, self._tag(password)):
            return None
        return user

    def _tag(self, password: str) -> bytes:
        return hmac.new(self._cache_key, password.encode(), hashlib.sha256).digest()

    def _cached(self, username: str, tag: bytes) -> bool:
        with self._lock:
            known = self._verified.get(username)
        return known is not None and hmac.compare_digest(known, tag)

    def authenticate(self, username: str, password: str) -> RpcUser | None:
        """The user if `password` is theirs, else None (also for unknown users)."""
        user = self.user(username)
        if user is None:
            verify_password(password, _dummy_hash())
            return None
        tag = self._tag(password)
        if self._cached(username, tag):
            return user
        if not verify_password(password, user.password_hash):
            return None
        with self._lock:
            self._verified[username] = tag
        return user


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash no password is checked against for real: it makes an unknown username cost as
    much as a wrong password, so response times do not reveal which usernames exist."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def main() -> int:
    """Prompt for a password twice and print its hash for a node's RPC user configuration."""
    password = getpass.getpass("RPC password: ")
    if not password:
        print("error: the password is empty", file=sys.stderr)
        return 1
    if getpass.getpass("again: ") != password:
        print("error: the passwords differ", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
