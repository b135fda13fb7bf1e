"""Signing keys: Ed25519 for ledger signatures, ECDSA P-256 for TLS and certificate authorities.

Public keys are value types with one canonical encoding. A `PublicKey` is also the thing a
command or a notary requires a signature from; `CompositeKey` (see `composite`) is the
threshold case, and a single key is the degenerate one.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from dlt.crypto.errors import InvalidKeyError, InvalidSignatureError
from dlt.crypto.hashing import SecureHash
from dlt.encoding import DecodingError, decode, encode, register_codec


class SignatureScheme(enum.StrEnum):
    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"


class PublicKey(ABC):
    """A key that signatures can be checked against, or a threshold tree of them."""

    @property
    @abstractmethod
    def leaf_keys(self) -> frozenset[PublicKey]:
        """The single keys that can sign for this key."""

    @abstractmethod
    def is_fulfilled_by(self, keys: Iterable[PublicKey]) -> bool:
        """Whether signatures by `keys` are enough to satisfy this key."""

    @abstractmethod
    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise `InvalidSignatureError` unless `signature` is this key's over `data`."""

    def is_valid(self, signature: bytes, data: bytes) -> bool:
        try:
            self.verify(signature, data)
        except InvalidSignatureError:
            return False
        return True

    @cached_property
    def encoded(self) -> bytes:
        """The canonical encoding; what the fingerprint and composite keys are computed over."""
        return encode(self)

    @cached_property
    def fingerprint(self) -> SecureHash:
        return SecureHash.sha256(self.encoded)

    def to_string(self) -> str:
        """Text form that `parse_public_key` reads back."""
        return "key:" + self.encoded.hex()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and self.encoded == other.encoded

    def __hash__(self) -> int:
        return hash(self.encoded)

    def __lt__(self, other: PublicKey) -> bool:
        return self.encoded < other.encoded

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fingerprint.prefix(12)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: object) -> PublicKey:
            if isinstance(value, str):
                value = parse_public_key(value)
            if isinstance(value, cls):
                return value
            raise ValueError(f"expected a {cls.__name__}")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda key: key.to_string()
            ),
        )


class SingleKey(PublicKey):
    """One asymmetric key: it is fulfilled exactly when it is among the signers."""

    scheme: SignatureScheme

    @property
    @abstractmethod
    def raw(self) -> bytes:
        """Raw public key bytes (Ed25519: 32 bytes; P-256: the 33-byte compressed point)."""

    @property
    def leaf_keys(self) -> frozenset[PublicKey]:
        return frozenset({self})

    def is_fulfilled_by(self, keys: Iterable[PublicKey]) -> bool:
        return self in set(keys)

    @abstractmethod
    def to_cryptography(self) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
        """The `cryptography` object, for building certificates."""


class Ed25519PublicKey(SingleKey):
    scheme = SignatureScheme.ED25519

    def __init__(self, raw: bytes) -> None:
        try:
            self._key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise InvalidKeyError(f"not an Ed25519 public key: {exc}") from exc
        self._raw = bytes(raw)

    @property
    def raw(self) -> bytes:
        return self._raw

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            self._key.verify(signature, data)
        except InvalidSignature as exc:
            raise InvalidSignatureError(f"invalid Ed25519 signature by {self!r}") from exc

    def to_cryptography(self) -> ed25519.Ed25519PublicKey:
        return self._key


class EcdsaP256PublicKey(SingleKey):
    scheme = SignatureScheme.ECDSA_P256

    def __init__(self, raw: bytes) -> None:
        try:
            self._key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError as exc:
            raise InvalidKeyError(f"not a P-256 public key: {exc}") from exc
        self._raw = self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def raw(self) -> bytes:
        return self._raw

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            self._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise InvalidSignatureError(f"invalid ECDSA signature by {self!r}") from exc

    def to_cryptography(self) -> ec.EllipticCurvePublicKey:
        return self._key


class PrivateKey(ABC):
    """A secret signing key. Never encoded onto the ledger; stored as (encrypted) PKCS#8 PEM."""

    @property
    @abstractmethod
    def public_key(self) -> SingleKey: ...

    @abstractmethod
    def sign(self, data: bytes) -> bytes: ...

    @abstractmethod
    def to_cryptography(self) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey: ...

    def to_pem(self, password: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.to_cryptography().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(public={self.public_key!r})"


class Ed25519PrivateKey(PrivateKey):
    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self._public = Ed25519PublicKey(
            key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )

    @classmethod
    def generate(cls) -> Ed25519PrivateKey:
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519PrivateKey:
        """A key from a 32-byte seed: for test vectors and deterministic fixtures only."""
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def to_cryptography(self) -> ed25519.Ed25519PrivateKey:
        return self._key


class EcdsaP256PrivateKey(PrivateKey):
    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidKeyError(f"expected a P-256 key, got {key.curve.name}")
        self._key = key
        self._public = EcdsaP256PublicKey(
            key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        )

    @classmethod
    def generate(cls) -> EcdsaP256PrivateKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> EcdsaP256PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def to_cryptography(self) -> ec.EllipticCurvePrivateKey:
        return self._key


def generate_key(scheme: SignatureScheme = SignatureScheme.ED25519) -> PrivateKey:
    """A fresh private key of `scheme` (Ed25519 unless said otherwise)."""
    if scheme is SignatureScheme.ED25519:
        return Ed25519PrivateKey.generate()
    return EcdsaP256PrivateKey.generate()


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """Read a PKCS#8 PEM written by `PrivateKey.to_pem`."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"cannot read private key: {exc}") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519PrivateKey(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return EcdsaP256PrivateKey(key)
    raise InvalidKeyError(f"unsupported private key type {type(key).__name__}")


def public_key_from_cryptography(key: object) -> SingleKey:
    """Wrap a `cryptography` public key, such as one read from a certificate."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Ed25519PublicKey(
            key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return EcdsaP256PublicKey(
            key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        )
    raise InvalidKeyError(f"unsupported public key type {type(key).__name__}")


def parse_public_key(text: str) -> PublicKey:
    """Read the text form printed by `PublicKey.to_string`."""
    if not text.startswith("key:"):
        raise InvalidKeyError("a public key's text form starts with 'key:'")
    try:
        return decode(bytes.fromhex(text[4:]), PublicKey)
    except (ValueError, DecodingError) as exc:
        raise InvalidKeyError(f"not a public key: {exc}") from exc


register_codec(
    "PublicKey.Ed25519",
    Ed25519PublicKey,
    ["raw"],
    lambda k: {"raw": k.raw},
    lambda f: Ed25519PublicKey(f["raw"]),
)
register_codec(
    "PublicKey.EcdsaP256",
    EcdsaP256PublicKey,
    ["raw"],
    lambda k: {"raw": k.raw},
    lambda f: EcdsaP256PublicKey(f["raw"]),
)
