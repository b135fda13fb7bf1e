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
_TYPE_KEY_ORDER = canonical.key_order(TYPE_KEY)

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=type[BaseModel])


Lowering = Callable[[Any, int], Any]
"""Lowers one object already admitted at the given depth (see `to_value`)."""


@dataclass(frozen=True)
class _Codec:
    name: str
    cls: type
    fields: frozenset[str]
    to_fields: Callable[[Any], dict[str, Any]]
    from_fields: Callable[[dict[str, Any]], Any]
    lower: Lowering


_by_name: dict[str, _Codec] = {}
_by_class: dict[type, _Codec] = {}
_lowerings: dict[type, Lowering] = {}
"""How each exact type seen so far lowers: the isinstance chain of `_lowering_for`, decided
once per type instead of once per object. Only types that lower successfully are kept."""
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
    fixed = frozenset(fields)
    _register(
        name, cls, fixed, to_fields, from_fields, _checked_codec_lowering(name, fixed, to_fields)
    )


def _register(
    name: str,
    cls: type,
    fields: frozenset[str],
    to_fields: Callable[[Any], dict[str, Any]],
    from_fields: Callable[[dict[str, Any]], Any],
    lower: Lowering,
) -> None:
    existing = _by_name.get(name)
    if existing is not None and existing.cls is not cls:
        raise EncodingError(
            f"type name {name!r} is already registered for {existing.cls.__qualname__}"
        )
    codec = _Codec(name, cls, fields, to_fields, from_fields, lower)
    _by_name[name] = codec
    _by_class[cls] = codec
    _lowerings.pop(cls, None)


def _checked_codec_lowering(
    name: str, declared: frozenset[str], to_fields: Callable[[Any], dict[str, Any]]
) -> Lowering:
    """A hand-written codec may write other fields than it declares, so every object's field
    set is checked."""
    before, after = _split_at_type_key(declared)

    def lower(obj: Any, depth: int) -> dict[str, Any]:
        shared = _shared_value(obj, depth, declared)
        if shared is not None:
            return shared
        items = to_fields(obj)
        if items.keys() != declared:
            raise EncodingError(f"{name} encodes fields {sorted(items)}, not {sorted(declared)}")
        depth += 1
        if depth > canonical.MAX_DEPTH and declared:
            raise _too_deep()
        fields = {}
        for field in before:
            item = items[field]
            fields[field] = item if type(item) in _SCALARS else _lowered(item, depth)
        fields[TYPE_KEY] = name
        for field in after:
            item = items[field]
            fields[field] = item if type(item) in _SCALARS else _lowered(item, depth)
        return fields

    return lower


def _model_lowering(name: str, names: tuple[str, ...]) -> Lowering:
    """A pydantic model's fields are fixed by its class, so its field set needs no check."""
    before, after = _split_at_type_key(names)

    def lower(obj: Any, depth: int) -> dict[str, Any]:
        shared = _shared_value(obj, depth, names)
        if shared is not None:
            return shared
        depth += 1
        if depth > canonical.MAX_DEPTH and names:
            raise _too_deep()
        fields = {}
        for field in before:
            item = getattr(obj, field)
            fields[field] = item if type(item) in _SCALARS else _lowered(item, depth)
        fields[TYPE_KEY] = name
        for field in after:
            item = getattr(obj, field)
            fields[field] = item if type(item) in _SCALARS else _lowered(item, depth)
        return fields

    return lower


def _shared_value(obj: Any, depth: int, fields: Iterable[str]) -> dict[str, Any] | None:
    """The lowered value of a shared decoded object (see `_leaf_values`), refused at the same
    depth as lowering it afresh would be: its fields are all scalars, one level down."""
    found = _leaf_values.get(id(obj))
    if found is None or found[0] is not obj:
        return None
    if depth + 1 > canonical.MAX_DEPTH and fields:
        raise _too_deep()
    return found[1]


def _split_at_type_key(fields: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A registered type's fields in canonical map order, split around where TYPE_KEY goes."""
    ordered = sorted(fields, key=canonical.key_order)
    position = sum(1 for field in ordered if canonical.key_order(field) < _TYPE_KEY_ORDER)
    return tuple(ordered[:position]), tuple(ordered[position:])


def serializable(name: str) -> Callable[[ModelT], ModelT]:
    """Class decorator registering a pydantic model under a stable type name."""

    def register(cls: ModelT) -> ModelT:
        names = tuple(cls.model_fields)

        def to_fields(model: BaseModel) -> dict[str, Any]:
            return {field: getattr(model, field) for field in names}

        def from_fields(fields: dict[str, Any]) -> BaseModel:
            try:
                return cls.model_validate(fields)
            except ValidationError as exc:
                raise DecodingError(f"invalid {name}: {exc}") from exc

        _register(name, cls, frozenset(names), to_fields, from_fields, _model_lowering(name, names))
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


_SCALARS = frozenset({type(None), bool, int, str, bytes})
"""Exact types that are their own lowered value (subclasses such as enums are not)."""


def to_value(obj: Any, depth: int = 0) -> canonical.Value:
    """Lower an object to the canonical value model, every map in canonical key order, which
    `canonical.dumps_lowered` may then encode without checking or sorting it again."""
    if depth > canonical.MAX_DEPTH:
        raise _too_deep()
    return _lowered(obj, depth)


def _lowered(obj: Any, depth: int) -> canonical.Value:
    """`to_value` for a caller that has checked `depth` itself (once for all of a container's
    items): a scalar, the commonest item, then costs no call."""
    cls = type(obj)
    if cls in _SCALARS:
        return obj
    lower = _lowerings.get(cls)
    if lower is None:
        lower = _lowering_for(cls)
    return lower(obj, depth)


def _too_deep() -> EncodingError:
    return EncodingError(f"value nests deeper than {canonical.MAX_DEPTH} levels")


def _lowering_for(cls: type) -> Lowering:
    """Decide how `cls` lowers, in the order the value model gives precedence (a str enum is a
    string, an int enum an int, a registered dict subclass a map); remember the decision."""
    lower: Lowering
    if issubclass(cls, bool | str | bytes):
        lower = _as_is
    elif issubclass(cls, enum.Enum):
        lower = _enum_value
    elif issubclass(cls, int):
        lower = _as_int
    elif issubclass(cls, float):
        raise EncodingError("floats are not allowed in ledger data; use integer units")
    elif issubclass(cls, datetime):
        lower = _lower_instant
    elif issubclass(cls, list | tuple):
        lower = _lower_sequence
    elif issubclass(cls, frozenset | set):
        lower = _lower_set
    elif issubclass(cls, dict):
        lower = _lower_map
    else:
        codec = _codec_for(cls)
        if codec is None:
            raise EncodingError(
                f"{cls.__qualname__} is not a registered ledger type; "
                "decorate it with @serializable(name)"
            )
        lower = codec.lower
    _lowerings[cls] = lower
    return lower


def _as_is(obj: Any, _depth: int) -> Any:
    return obj


def _as_int(obj: Any, _depth: int) -> int:
    return int(obj)


def _enum_value(obj: enum.Enum, depth: int) -> canonical.Value:
    return to_value(obj.value, depth)


def _lower_instant(moment: datetime, depth: int) -> dict[str, Any]:
    if depth + 1 > canonical.MAX_DEPTH:
        raise EncodingError(f"value nests deeper than {canonical.MAX_DEPTH} levels")
    return {"us": _micros(moment), TYPE_KEY: "instant"}  # "us" sorts first: it is shorter


def _lower_sequence(items: list[Any] | tuple[Any, ...], depth: int) -> list[Any]:
    depth += 1
    if depth > canonical.MAX_DEPTH and items:
        raise _too_deep()
    return [item if type(item) in _SCALARS else _lowered(item, depth) for item in items]


def _lower_set(items: frozenset[Any] | set[Any], depth: int) -> list[Any]:
    depth += 1
    if depth > canonical.MAX_DEPTH and items:
        raise _too_deep()
    lowered = [item if type(item) in _SCALARS else _lowered(item, depth) for item in items]
    return sorted(lowered, key=canonical.dumps_lowered)


def _lower_map(mapping: dict[Any, Any], depth: int) -> dict[str, Any]:
    depth += 1
    for key in mapping:
        if not isinstance(key, str):
            raise EncodingError(f"map keys must be strings, got {type(key).__name__}")
        if key == TYPE_KEY:
            raise EncodingError(f"{TYPE_KEY!r} is reserved and cannot be a map key")
    if depth > canonical.MAX_DEPTH and mapping:
        raise _too_deep()
    return {key: _lowered(mapping[key], depth) for key in sorted(mapping, key=canonical.key_order)}


_LEAVES = frozenset({type(None), bool, int, str, bytes, float})
"""Exact types of decoded values that raise to themselves (floats are refused later, when the
result is re-encoded)."""


def from_value(value: canonical.Value) -> Any:
    """Raise a canonical value back to objects, constructing registered types only."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, list):
        return [from_value(item) for item in value]
    if isinstance(value, dict):
        return _from_map(value)
    return value


def _from_map(value: dict[str, Any]) -> Any:
    fields = {
        key: item if type(item) in _LEAVES else from_value(item)
        for key, item in value.items()
        if key != TYPE_KEY
    }
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
    if fields.keys() != codec.fields:
        raise DecodingError(
            f"invalid {name}: expected fields {sorted(codec.fields)}, got {sorted(fields)}"
        )
    key = None if name in _compound else _leaf_key(name, fields)
    if key is None:
        _compound.add(name)
        return _construct(codec, fields)
    found = _leaves.get(key)
    if found is None:
        found = _construct(codec, fields)
        if len(_leaves) >= _MAX_LEAVES:
            _leaves.clear()
            _leaf_values.clear()
        _leaves[key] = found
        _remember_value(codec, found)
    return found


def _remember_value(codec: _Codec, leaf: Any) -> None:
    """Keep a shared object's lowered value; one that does not lower is not kept (its decode
    fails on re-encoding, as without the memo)."""
    try:
        _leaf_values[id(leaf)] = (leaf, codec.lower(leaf, 0))
    except (EncodingError, TypeError, ValueError, KeyError, AttributeError):
        return


def _construct(codec: _Codec, fields: dict[str, Any]) -> Any:
    try:
        return codec.from_fields(fields)
    except DecodingError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise DecodingError(f"invalid {codec.name}: {exc}") from exc


_MAX_LEAVES = 4096
_MAX_LEAF_TEXT = 1024
_leaves: dict[tuple[Any, ...], Any] = {}
"""Registered objects built from scalar fields only (names, keys, hashes), by those fields and
their exact types: a block of transactions names the same few parties and keys many times, and
parsing them dominates decoding. Cleared when full; a dict's get and set are atomic, so threads
at worst build one object twice. Sharing is safe because a decoded object is immutable (as the
decode memo already assumes) and every decode still re-encodes its result and compares bytes."""
_leaf_values: dict[int, tuple[Any, dict[str, Any]]] = {}
"""The lowered value of each shared object, by its id, with the object itself (held, so the id
is not reused while the entry lives): the re-encoding that proves each decode canonical
lowers the same names and keys again and again. Read-only, like every lowered value."""
_compound: set[str] = set()
"""Type names once seen with a field that is not a small scalar: not worth a key each time."""


def _leaf_key(name: str, fields: dict[str, Any]) -> tuple[Any, ...] | None:
    """The memo key of a registered value whose fields are all small scalars, else None."""
    key: list[Any] = [name]
    for field, item in fields.items():
        kind = type(item)
        if kind is str or kind is bytes:
            if len(item) > _MAX_LEAF_TEXT:
                return None
        elif kind is not int and kind is not bool and item is not None:
            return None
        key += (field, kind, item)
    return tuple(key)


def encode(obj: Any) -> bytes:
    """The deterministic bytes of `obj`: what is hashed, signed and sent. An object the decode
    memo holds was proven to encode to the bytes it came from, so those are returned."""
    known = _decoded.encoding_of(obj)
    if known is not None:
        return known
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
