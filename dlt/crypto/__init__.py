"""Keys, signatures, hashes, Merkle trees and composite (threshold) keys."""

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

__all__ = [
    "CryptoError",
    "EcdsaP256PrivateKey",
    "EcdsaP256PublicKey",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "InvalidKeyError",
    "InvalidSignatureError",
    "PrivateKey",
    "PublicKey",
    "SecureHash",
    "SignatureScheme",
    "SingleKey",
    "generate_key",
    "load_private_key",
    "parse_public_key",
    "public_key_from_cryptography",
    "sha256",
]
