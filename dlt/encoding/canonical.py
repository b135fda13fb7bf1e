"""Deterministic CBOR (RFC 8949 section 4.2) over a small, closed value model.

Only None, bool, int, str, bytes, lists and string-keyed maps are allowed. Floats are refused so
that no amount on the ledger can be a float. Decoding is strict: the bytes must re-encode to
themselves, so two different byte strings never decode to the same value.
"""

from __future__ import annotations

from typing import Any

import cbor2

from dlt.encoding.errors import DecodingError, EncodingError

MAX_DEPTH = 64

Value = None | bool | int | str | bytes | list[Any] | dict[str, Any]


def _check(value: object, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise EncodingError(f"value nests deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int | str | bytes):
        return
    if isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"map keys must be strings, got {type(key).__name__}")
            _check(item, depth + 1)
        return
    if isinstance(value, float):
        raise EncodingError("floats are not allowed in ledger data; use integer units")
    raise EncodingError(f"{type(value).__name__} is not part of the canonical value model")


def dumps(value: Value) -> bytes:
    """Encode a plain value deterministically."""
    _check(value, 0)
    return cbor2.dumps(value, canonical=True)


def dumps_lowered(value: Value) -> bytes:
    """Encode a value the typed layer has already lowered and checked (`to_value` admits
    only the value model, within MAX_DEPTH, and builds every map in `key_order`), without
    walking it a second time. cbor2 writes maps in insertion order, so for such a value these
    are exactly the bytes of `dumps`, without cbor2's costly canonical re-sorting."""
    return cbor2.dumps(value)


def key_order(key: str) -> tuple[int, bytes]:
    """Where a text key goes in a canonical map: by the length of its UTF-8 bytes, then by those
    bytes. For text keys this is both RFC 8949 4.2.1 bytewise order of the encoded keys and
    the length-first order of RFC 7049, which cbor2's canonical mode writes."""
    data = key.encode()
    return len(data), data


def _refuse_tag(_decoder: object, tag: cbor2.CBORTag) -> object:
    raise DecodingError(f"CBOR tag {tag.tag} is not allowed")


def loads(data: bytes, *, check_canonical: bool = True) -> Value:
    """Decode bytes produced by `dumps`; anything non-canonical or outside the model is refused.

    Callers that re-encode what they decode anyway (typed decoding does) may skip the check
    here and compare bytes themselves.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodingError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        value = cbor2.loads(
            data,
            tag_hook=_refuse_tag,
            semantic_decoders={},
            max_depth=MAX_DEPTH + 1,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except DecodingError:
        raise
    except Exception as exc:
        raise DecodingError(f"not a valid encoding: {exc}") from exc
    if check_canonical:
        require_canonical(value, data)
    return value


def require_canonical(value: object, data: bytes, *, lowered: bool = False) -> None:
    """Refuse `data` unless it is exactly the canonical encoding of `value` (`lowered`: the
    value comes from the typed layer, already checked)."""
    try:
        canonical = dumps_lowered(value) if lowered else dumps(value)  # type: ignore[arg-type]
    except EncodingError as exc:
        raise DecodingError(str(exc)) from exc
    if canonical != data:
        raise DecodingError("encoding is not canonical")
