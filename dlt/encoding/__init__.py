"""Deterministic encoding of everything that is hashed, signed or sent between nodes."""

from dlt.encoding.errors import DecodingError, EncodingError
from dlt.encoding.registry import (
    decode,
    encode,
    register_codec,
    registered_type,
    serializable,
    type_name_of,
)

__all__ = [
    "DecodingError",
    "EncodingError",
    "decode",
    "encode",
    "register_codec",
    "registered_type",
    "serializable",
    "type_name_of",
]
