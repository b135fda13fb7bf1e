"""Typed values on top of the canonical encoding: only registered types are ever constructed.

A registered object is encoded as a map holding its fields plus the key ``"$type"`` with its
stable type name. Type names are part of the ledger format: renaming a Python class changes
nothing, renaming its registered name breaks every transaction that holds it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dlt.encoding import canonical
from dlt.encoding.errors import DecodingError, EncodingError
from dlt.encoding.memo import DecodeMemo

TYPE_KEY = "$type"

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=type[BaseModel])


@dataclass(frozen=True)
class _Codec:
    name: str
    cls: type
    fields: frozenset[str]
    to_fields: Callable[[Any], dict[str, Any]]
    from_fields: Callable[[dict[str, Any]], Any]


_by_name: dict[str, _Codec] = {}
_by_class: dict[type, _Codec] = {}
_decoded = DecodeMemo()


def register_codec(
    name: str,
    cls: type[T],
    fields: Iterable[str],
    to_fields: Callable[[T], dict[str, Any]],
    from_fields: Callable[[dict[str, Any]], T],
) -> None:
    """Register a non-pydantic type whose encoding is exactly the map `fields`.

    Decoding refuses a map with other keys, so decode(encode(x)) is the identity and no two
    encodings decode to the same object.
    """
    existing = _by_name.get(name)
    if existing is not None and existing.cls is not cls:
        raise EncodingError(
            f"type name {name!r} is already registered for {existing.cls.__qualname__}"
        )
    codec = _Codec(name, cls, frozenset(fields), to_fields, from_fields)
    _by_name[name] = codec
    _by_class[cls] = codec


def serializable(name: str) -> Callable[[ModelT], ModelT]:
    """Class decorator registering a pydantic model under a stable type name."""

    def register(cls: ModelT) -> ModelT:
        def to_fields(model: BaseModel) -> dict[str, Any]:
            return {field: getattr(model, field) for field in type(model).model_fields}

        def from_fields(fields: dict[str, Any]) -> BaseModel:
            try:
                return cls.model_validate(fields)
            except ValidationError as exc:
                raise DecodingError(f"invalid {name}: {exc}") from exc

        register_codec(name, cls, cls.model_fields, to_fields, from_fields)
        return cls

    return register


def type_name_of(cls: type) -> str:
    """The registered name of a class, for error messages and state-type queries."""
    codec = _codec_for(cls)
    if codec is None:
        raise EncodingError(f"{cls.__qualname__} is not a registered ledger type")
    return codec.name


def registered_type(name: str) -> type:
    """The class registered under `name`."""
    codec = _by_name.get(name)
    if codec is None:
        raise DecodingError(f"unknown type {name!r}; is the CorDapp that defines it installed?")
    return codec.cls


def _codec_for(cls: type) -> _Codec | None:
    # Exact classes only: a subclass may add fields, so it must register a name of its own.
    return _by_class.get(cls)


def to_value(obj: Any, depth: int = 0) -> canonical.Value:
    """Lower an object to the canonical value model, which `canonical.dumps_lowered` may
    then encode without checking it again."""
    if depth > canonical.MAX_DEPTH:
        raise EncodingError(f"value nests deeper than {canonical.MAX_DEPTH} levels")
    if obj is None or isinstance(obj, bool | str | bytes):
        return obj
    if isinstance(obj, enum.Enum):
        return to_value(obj.value, depth)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        raise EncodingError("floats are not allowed in ledger data; use integer units")
    depth += 1
    if isinstance(obj, datetime):
        if depth > canonical.MAX_DEPTH:
            raise EncodingError(f"value nests deeper than {canonical.MAX_DEPTH} levels")
        return {TYPE_KEY: "instant", "us": _micros(obj)}
    if isinstance(obj, list | tuple):
        return [to_value(item, depth) for item in obj]
    if isinstance(obj, frozenset | set):
        items = [to_value(item, depth) for item in obj]
        return sorted(items, key=canonical.dumps_lowered)
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, item in obj.items():
            if not isinstance(key, str):
                raise EncodingError(f"map keys must be strings, got {type(key).__name__}")
            if key == TYPE_KEY:
                raise EncodingError(f"{TYPE_KEY!r} is reserved and cannot be a map key")
            out[key] = to_value(item, depth)
        return out
    codec = _codec_for(type(obj))
    if codec is None:
        raise EncodingError(
            f"{type(obj).__qualname__} is not a registered ledger type; "
            "decorate it with @serializable(name)"
        )
    fields = {key: to_value(item, depth) for key, item in codec.to_fields(obj).items()}
    if set(fields) != codec.fields:
        raise EncodingError(
            f"{codec.name} encodes fields {sorted(fields)}, not {sorted(codec.fields)}"
        )
    fields[TYPE_KEY] = codec.name
    return fields


def from_value(value: canonical.Value) -> Any:
    """Raise a canonical value back to objects, constructing registered types only."""
    if isinstance(value, list):
        return [from_value(item) for item in value]
    if isinstance(value, dict):
        fields = {key: from_value(item) for key, item in value.items() if key != TYPE_KEY}
        if TYPE_KEY not in value:
            return fields
        name = value[TYPE_KEY]
        if name == "instant":
            return _instant(fields)
        if not isinstance(name, str):
            raise DecodingError(f"{TYPE_KEY} must be a string")
        codec = _by_name.get(name)
        if codec is None:
            raise DecodingError(f"unknown type {name!r}; is the CorDapp that defines it installed?")
        if set(fields) != codec.fields:
            raise DecodingError(
                f"invalid {name}: expected fields {sorted(codec.fields)}, got {sorted(fields)}"
            )
        try:
            return codec.from_fields(fields)
        except DecodingError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise DecodingError(f"invalid {name}: {exc}") from exc
    return value


def encode(obj: Any) -> bytes:
    """The deterministic bytes of `obj`: what is hashed, signed and sent."""
    return canonical.dumps_lowered(to_value(obj))


def decode(data: bytes, expected: type[T] | None = None) -> T:
    """Decode bytes from `encode`; with `expected`, also check the result's type.

    The result must encode back to exactly `data`: one object, one encoding. This refuses
    non-canonical CBOR and also lenient type-level forms (a number given as text, a key in
    another point format, a name with its attributes reordered). Immutable results are
    memoised by their bytes, so decoding the same bytes again returns the same object.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodingError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    obj = _decoded.get(data)
    if obj is None:
        obj = from_value(canonical.loads(data, check_canonical=False))
        try:
            canonical.require_canonical(to_value(obj), data, lowered=True)
        except EncodingError as exc:
            raise DecodingError(str(exc)) from exc
        _decoded.put(data, obj)
    if expected is not None and not isinstance(obj, expected):
        raise DecodingError(f"expected {expected.__qualname__}, got {type(obj).__qualname__}")
    return obj  # type: ignore[no-any-return]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise EncodingError("datetimes on the ledger must be timezone-aware (use UTC)")
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    try:
        _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:
        raise EncodingError(f"{moment.isoformat()} is outside the range instants can take") from exc
    return micros


def _instant(fields: dict[str, Any]) -> datetime:
    micros = fields.get("us")
    if set(fields) != {"us"} or not isinstance(micros, int) or isinstance(micros, bool):
        raise DecodingError("invalid instant")
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:
        raise DecodingError(f"instant {micros} µs from the epoch is out of range") from exc
