"""SHA-256 hashes as a value type, so a hash can never be confused with other bytes."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from dlt.encoding import register_codec

HASH_SIZE = 32


class SecureHash:
    """A SHA-256 digest. Immutable, hashable, ordered by its bytes, printed as lowercase hex."""

    __slots__ = ("_bytes",)
    ZERO: ClassVar[SecureHash]

    def __init__(self, digest: bytes) -> None:
        if not isinstance(digest, bytes) or len(digest) != HASH_SIZE:
            raise ValueError(f"a SHA-256 hash is {HASH_SIZE} bytes")
        self._bytes = digest

    @classmethod
    def sha256(cls, data: bytes) -> SecureHash:
        return cls(hashlib.sha256(data).digest())

    @classmethod
    def parse(cls, text: str) -> SecureHash:
        """Parse the 64-character hex form that `str()` prints."""
        try:
            digest = bytes.fromhex(text)
        except ValueError as exc:
            raise ValueError(f"not a hex SHA-256 hash: {text!r}") from exc
        if len(digest) != HASH_SIZE:
            raise ValueError(f"a SHA-256 hash is 64 hex characters, got {len(text)}")
        return cls(digest)

    @property
    def bytes(self) -> bytes:
        return self._bytes

    def prefix(self, chars: int = 8) -> str:
        """A short form for logs and tables."""
        return self._bytes.hex()[:chars]

    def __str__(self) -> str:
        return self._bytes.hex()

    def __repr__(self) -> str:
        return f"SecureHash({self._bytes.hex()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecureHash) and self._bytes == other._bytes

    def __lt__(self, other: SecureHash) -> bool:
        return self._bytes < other._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: object) -> SecureHash:
            if isinstance(value, SecureHash):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError("expected a SHA-256 hash (64 hex characters)")

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.to_string_ser_schema()
        )


SecureHash.ZERO = SecureHash(bytes(HASH_SIZE))


def sha256(data: bytes) -> SecureHash:
    """Hash bytes with SHA-256."""
    return SecureHash.sha256(data)


register_codec(
    "SecureHash",
    SecureHash,
    ["sha256"],
    lambda h: {"sha256": h.bytes},
    lambda f: SecureHash(f["sha256"]),
)
