"""Keys, signatures, hashes, Merkle trees and composite (threshold) keys."""

from dlt.crypto.composite import CompositeKey, CompositeKeyError
from dlt.crypto.errors import CryptoError, InvalidKeyError, InvalidSignatureError
from dlt.crypto.hashing import SecureHash, sha256
from dlt.crypto.keys import (
    EcdsaP256PrivateKey,
    EcdsaP256PublicKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    PrivateKey,
    PublicKey,
    SignatureScheme,
    SingleKey,
    generate_key,
    load_private_key,
    parse_public_key,
    public_key_from_cryptography,
)
from dlt.crypto.merkle import (
    MerkleProof,
    MerkleProofError,
    MerkleTree,
    MerkleTreeError,
    merkle_root,
)

__all__ = [
    "CompositeKey",
    "CompositeKeyError",
    "CryptoError",
    "EcdsaP256PrivateKey",
    "EcdsaP256PublicKey",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "InvalidKeyError",
    "InvalidSignatureError",
    "MerkleProof",
    "MerkleProofError",
    "MerkleTree",
    "MerkleTreeError",
    "PrivateKey",
    "PublicKey",
    "SecureHash",
    "SignatureScheme",
    "SingleKey",
    "generate_key",
    "load_private_key",
    "merkle_root",
    "parse_public_key",
    "public_key_from_cryptography",
    "sha256",
]
