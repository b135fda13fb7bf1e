"""The node's private keys: the legal identity key and fresh keys for confidential identities.

Keys live as PKCS#8 PEM files in the node's key directory (encrypted when a password is set),
so a restarted node signs with the same keys. Nothing else in the node sees a private key.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlt.crypto import PrivateKey, PublicKey, SecureHash, generate_key, load_private_key
from dlt.ledger import Attachment, TransactionSignature, sign_batch, sign_transaction_id


class UnknownKeyError(LookupError):
    """Asked to sign with a key this node does not hold."""


class KeyManagementService:
    def __init__(self, directory: Path | None = None, password: bytes | None = None) -> None:
        self._directory = directory
        self._password = password
        self._keys: dict[PublicKey, PrivateKey] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(directory.glob("*.pem")):
                key = load_private_key(path.read_bytes(), password)
                self._keys[key.public_key] = key

    def add(self, key: PrivateKey, *, store: bool = True) -> PublicKey:
        """Hold `key`, storing it if the service has a directory (and `store`: a key its
        owner already keeps elsewhere, like the legal identity key, is not written twice)."""
        if store and key.public_key not in self._keys and self._directory is not None:
            path = self._directory / f"{key.public_key.fingerprint.prefix(32)}.pem"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key.to_pem(self._password))
        self._keys[key.public_key] = key
        return key.public_key

    def fresh_key(self) -> PublicKey:
        return self.add(generate_key())

    @property
    def keys(self) -> frozenset[PublicKey]:
        return frozenset(self._keys)

    def signing_key(self, key: PublicKey) -> PrivateKey:
        """The private key behind `key`, for in-node services that sign on their own (a
        notary replica batching signatures). Flows sign through `sign_transaction`."""
        return self._private(key)

    def _private(self, key: PublicKey) -> PrivateKey:
        for candidate in (key, *key.leaf_keys):
            private = self._keys.get(candidate)
            if private is not None:
                return private
        raise UnknownKeyError(f"this node holds no private key for {key!r}")

    def sign(self, data: bytes, key: PublicKey) -> bytes:
        return self._private(key).sign(data)

    def sign_transaction(self, tx_id: SecureHash, key: PublicKey) -> TransactionSignature:
        return sign_transaction_id(self._private(key), tx_id)

    def sign_attachment(self, attachment: Attachment, key: PublicKey) -> Attachment:
        """`attachment` with `key`'s signature added (market rules, CorDapp code)."""
        return attachment.signed_by(self._private(key))

    def sign_batch(self, tx_ids: list[SecureHash], key: PublicKey) -> list[TransactionSignature]:
        return sign_batch(self._private(key), tx_ids)
