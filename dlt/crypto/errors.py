"""Errors raised by the crypto layer."""


class CryptoError(Exception):
    """Base of every crypto failure."""


class InvalidSignatureError(CryptoError):
    """A signature does not verify against the key and data it claims."""


class InvalidKeyError(CryptoError, ValueError):
    """Bytes or text that do not describe a key of a supported scheme."""
