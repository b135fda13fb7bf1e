"""End-to-end sealing of P2P payloads, so the broker carries envelopes it cannot read or alter.

RabbitMQ terminates every node's TLS connection, so whoever operates the broker sees message
bodies and could pick bids by content. A sealed payload is readable only by its recipient and
provably from its sender: the broker is left with the envelope (sender, recipient, message id,
size and timing).

Keys are the legal identity keys the network map already certifies (Ed25519), converted to
their X25519 form (RFC 7748's birational map, as libsodium's `crypto_sign_ed25519_*_to_curve25519`
does), so no new key or NodeInfo field is needed. Per message, as HPKE's authenticated mode
composes it (RFC 9180 §5.1.3), with the `cryptography` package's primitives:

    e        = fresh X25519 key pair
    secret   = X25519(e, R) || X25519(s, R)           s, R: sender's and recipient's keys
    key      = HKDF-SHA256(secret, info = label || e_pub || S_pub || R_pub || message id)
    sealed   = MAGIC || e_pub || ChaCha20-Poly1305(key, nonce 0, pad(payload), aad = MAGIC || e_pub)

The fresh `e` makes every key single use (hence the constant nonce); the static-static term
(computed once per peer key and cached) authenticates the sender, so a broker that swaps
bodies, user ids or message ids, or forges a message in someone's name, produces a seal that
does not open (`SealError`). Payloads are padded to a multiple of `PAD_QUANTUM` bytes
(ISO/IEC 7816-4: 0x80 then zeros), so sizes leak only in coarse steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dlt.crypto import Ed25519PrivateKey, Ed25519PublicKey, PublicKey
from dlt.identity import X500Name

MAGIC = b"DLTS\x01"
"""Marks a sealed payload and its format version."""
LABEL = b"dlt p2p seal v1"
PAD_QUANTUM = 256
"""Sealed sizes are multiples of this (plus the fixed overhead): coarse enough that orders,
signatures and acknowledgements of similar length look alike on the wire."""
OVERHEAD = len(MAGIC) + 32 + 16
_P = 2**255 - 19
_NONCE = bytes(12)

PeerKeys = Callable[[X500Name], PublicKey | None]


class SealError(Exception):
    """A payload could not be sealed or opened: unknown peer, not sealed, or tampered with."""


def x25519_private_from_ed25519(key: Ed25519PrivateKey) -> X25519PrivateKey:
    """The X25519 form of an Ed25519 private key: the clamped first half of SHA-512(seed)."""
    seed = key.to_cryptography().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:32])


def x25519_public_from_ed25519(key: Ed25519PublicKey) -> X25519PublicKey:
    """The Montgomery u = (1 + y) / (1 - y) mod p of an Edwards point given by its y."""
    raw = bytearray(key.raw)
    raw[31] &= 0x7F
    y = int.from_bytes(raw, "little")
    if y >= _P or y == 1:
        raise SealError("the identity key is not a usable Ed25519 point")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return X25519PublicKey.from_public_bytes(u.to_bytes(32, "little"))


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _pad(payload: bytes) -> bytes:
    padded = payload + b"\x80"
    return padded + bytes(-len(padded) % PAD_QUANTUM)


def _unpad(padded: bytes) -> bytes:
    end = padded.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise SealError("the sealed payload's padding is malformed")
    return end[:-1]


def _derive(shared: bytes, ephemeral: bytes, sender: bytes, recipient: bytes, mid: str) -> bytes:
    """The message key; every key is 32 bytes, so the message id, last, needs no length."""
    info = LABEL + ephemeral + sender + recipient + mid.encode()
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared)


def is_sealed(body: bytes) -> bool:
    return body.startswith(MAGIC)


class Sealer:
    """Seals what one node sends and opens what it receives, keyed by the network map."""

    def __init__(self, our_name: X500Name, our_key: Ed25519PrivateKey, peer_key: PeerKeys) -> None:
        """`peer_key(name)` is the legal identity key the network map certifies for `name`
        (None when the name is unknown)."""
        self.our_name = our_name
        self._private = x25519_private_from_ed25519(our_key)
        self._public = _raw(self._private.public_key())
        self._peer_key = peer_key
        self._peers: dict[bytes, tuple[X25519PublicKey, bytes, bytes]] = {}
        """Identity key -> its X25519 form, raw, and our static-static secret with it."""

    def _peer(self, name: X500Name) -> tuple[X25519PublicKey, bytes, bytes]:
        """The peer's X25519 key, its raw bytes and X25519(our key, its key), cached: the
        network map may rotate the key behind a name, so the cache is by key, not name."""
        key = self._peer_key(name) if name != self.our_name else None
        if name == self.our_name:
            raw = self._public
        elif not isinstance(key, Ed25519PublicKey):
            raise SealError(f"no Ed25519 identity key is known for {name} to seal with")
        else:
            raw = key.raw
        found = self._peers.get(raw)
        if found is None:
            converted = (
                self._private.public_key() if key is None else x25519_public_from_ed25519(key)
            )
            found = converted, _raw(converted), self._private.exchange(converted)
            self._peers[raw] = found
        return found

    def seal(self, recipient: X500Name, message_id: str, payload: bytes) -> bytes:
        """`payload` sealed to `recipient`'s identity key, from ours, for this message id."""
        their_key, their_raw, static = self._peer(recipient)
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = _raw(ephemeral.public_key())
        shared = ephemeral.exchange(their_key) + static
        key = _derive(shared, ephemeral_raw, self._public, their_raw, message_id)
        header = MAGIC + ephemeral_raw
        return header + ChaCha20Poly1305(key).encrypt(_NONCE, _pad(payload), header)

    def open(self, sender: X500Name, message_id: str, body: bytes) -> bytes:
        """The payload `sender` sealed to us for this message id; SealError if it is not
        sealed, not from `sender`, not for this id, or altered."""
        if not is_sealed(body) or len(body) < OVERHEAD:
            raise SealError(f"the message from {sender} is not sealed")
        _, their_raw, static = self._peer(sender)
        header = body[: len(MAGIC) + 32]
        ephemeral_raw = header[len(MAGIC) :]
        try:
            ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
            shared = self._private.exchange(ephemeral) + static
        except ValueError as exc:  # a low-order point gives an all-zero secret
            raise SealError(f"the message from {sender} has an invalid ephemeral key") from exc
        key = _derive(shared, ephemeral_raw, their_raw, self._public, message_id)
        try:
            padded = ChaCha20Poly1305(key).decrypt(_NONCE, body[len(header) :], header)
        except InvalidTag as exc:
            raise SealError(
                f"the sealed message {message_id} does not open as from {sender}: "
                "altered in transit or not sealed by its sender"
            ) from exc
        return _unpad(padded)
