"""Errors raised while encoding or decoding ledger data."""


class EncodingError(ValueError):
    """A value cannot be put into the deterministic encoding (a float, an unknown type)."""


class DecodingError(ValueError):
    """Bytes are not a canonical encoding of registered types; nothing is constructed from them."""
