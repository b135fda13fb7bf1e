"""Transaction signatures: over one id, or over the Merkle root of a batch of ids.

A signer signs SignableData(root, metadata). For a single transaction the root is its id; a
notary signing a batch signs the root of the batch's ids once and hands each requester a Merkle
proof from its id to that root, so one signature serves many transactions.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlt import PLATFORM_VERSION
from dlt.crypto import PrivateKey, PublicKey, SecureHash
from dlt.crypto.merkle import MerkleProof, MerkleTree
from dlt.encoding import encode, serializable
from dlt.ledger.errors import InvalidTransactionSignatureError
from dlt.ledger.states import LedgerModel


@serializable("SignatureMetadata")
class SignatureMetadata(LedgerModel):
    """Signed along with the root so a signature cannot be replayed under another format."""

    platform_version: int
    scheme: str


@serializable("SignableData")
class SignableData(LedgerModel):
    root: SecureHash
    metadata: SignatureMetadata


@serializable("TransactionSignature")
class TransactionSignature(LedgerModel):
    """A key's signature over a transaction id, possibly through a batch proof."""

    by: PublicKey
    signature: bytes
    metadata: SignatureMetadata
    batch_proof: MerkleProof | None = None

    def signed_root(self, tx_id: SecureHash) -> SecureHash:
        if self.batch_proof is None:
            return tx_id
        if len(self.batch_proof.indices) != 1:
            raise InvalidTransactionSignatureError("a batch proof must prove exactly one id")
        return self.batch_proof.compute_root({self.batch_proof.indices[0]: tx_id})

    def verify(self, tx_id: SecureHash) -> None:
        """Raise `InvalidTransactionSignatureError` unless this signs `tx_id`."""
        if (self, tx_id) in _verified:
            return
        try:
            root = self.signed_root(tx_id)
            payload = encode(SignableData(root=root, metadata=self.metadata))
            valid = self.by.is_valid(self.signature, payload)
        except (ValueError, InvalidTransactionSignatureError):
            valid = False
        if not valid:
            raise InvalidTransactionSignatureError(
                f"the signature by {self.by!r} does not verify over transaction {tx_id}"
            )
        if len(_verified) >= _MAX_VERIFIED:
            _verified.clear()
        _verified.add((self, tx_id))

    def is_valid(self, tx_id: SecureHash) -> bool:
        try:
            self.verify(tx_id)
        except InvalidTransactionSignatureError:
            return False
        return True


_MAX_VERIFIED = 16_384
_verified: set[tuple[TransactionSignature, SecureHash]] = set()
"""Signatures proven valid over a transaction id, compared by value (key, signature bytes,
metadata, batch proof): whether one verifies depends on nothing else, so a node checks each
once, not again as each step and each copy of the transaction gathers the same signatures
(a trade's finality met every signature two to three times). Only valid ones are kept, so an
entry can only stand for a check that passed; cleared when full."""


def _metadata(key: PrivateKey) -> SignatureMetadata:
    return SignatureMetadata(platform_version=PLATFORM_VERSION, scheme=key.public_key.scheme.value)


def sign_transaction_id(key: PrivateKey, tx_id: SecureHash) -> TransactionSignature:
    """Sign one transaction id."""
    metadata = _metadata(key)
    signature = key.sign(encode(SignableData(root=tx_id, metadata=metadata)))
    return TransactionSignature(by=key.public_key, signature=signature, metadata=metadata)


def sign_batch(key: PrivateKey, tx_ids: Sequence[SecureHash]) -> list[TransactionSignature]:
    """One signature over many ids; each returned signature carries its own proof."""
    if len(tx_ids) == 1:
        return [sign_transaction_id(key, tx_ids[0])]
    tree = MerkleTree(list(tx_ids))
    metadata = _metadata(key)
    signature = key.sign(encode(SignableData(root=tree.root, metadata=metadata)))
    return [
        TransactionSignature(
            by=key.public_key,
            signature=signature,
            metadata=metadata,
            batch_proof=tree.prove([index]),
        )
        for index in range(len(tx_ids))
    ]


def signing_keys(signatures: Sequence[TransactionSignature]) -> frozenset[PublicKey]:
    return frozenset(sig.by for sig in signatures)
