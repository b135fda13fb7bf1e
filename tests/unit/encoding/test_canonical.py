"""The canonical layer: deterministic CBOR over a closed value model, and strict decoding.

Every byte string `loads` accepts is the one encoding of its value, so a hash or a signature over
ledger bytes can never be matched by a second, differently encoded copy of the same value.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.encoding import DecodingError, EncodingError
from dlt.encoding.canonical import MAX_DEPTH, dumps, loads

scalars = st.none() | st.booleans() | st.integers() | st.text() | st.binary()
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def nested_lists(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


# -- what can be encoded ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [1.5, 0.0, [1, 2.0], {"amount": 1.0}, {"outer": [{"inner": float("nan")}]}],
    ids=["top-level", "zero", "in-a-list", "in-a-map", "deeply-nested"],
)
def test_floats_are_refused_wherever_they_appear(value):
    with pytest.raises(EncodingError, match="floats are not allowed"):
        dumps(value)


@pytest.mark.parametrize("key", [1, b"key", None, True], ids=["int", "bytes", "none", "bool"])
def test_maps_with_non_string_keys_are_refused(key):
    with pytest.raises(EncodingError, match="map keys must be strings"):
        dumps({"ok": {key: 1}})


@pytest.mark.parametrize(
    "value", [(1, 2), {1, 2}, object(), complex(1, 2)], ids=["tuple", "set", "object", "complex"]
)
def test_values_outside_the_model_are_refused(value):
    with pytest.raises(EncodingError, match="not part of the canonical value model"):
        dumps(value)


def test_nesting_up_to_the_maximum_depth_is_allowed():
    assert loads(dumps(nested_lists(MAX_DEPTH))) == nested_lists(MAX_DEPTH)


def test_nesting_deeper_than_the_maximum_depth_is_refused():
    with pytest.raises(EncodingError, match="deeper than"):
        dumps(nested_lists(MAX_DEPTH + 1))


def test_map_keys_are_encoded_in_sorted_order_whatever_the_insertion_order():
    assert dumps({"b": 1, "a": 2, "aa": 3}) == dumps({"aa": 3, "a": 2, "b": 1})
    assert dumps({"b": 1, "a": 2}) == bytes.fromhex("a2616102616201")


# -- integers beyond 64 bits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (2**64 - 1, "1bffffffffffffffff"),
        (-(2**64), "3bffffffffffffffff"),
        (2**64, "c249010000000000000000"),
        (-(2**64) - 1, "c349010000000000000000"),
    ],
    ids=["largest-uint64", "smallest-nint64", "smallest-bignum", "largest-negative-bignum"],
)
def test_integers_switch_to_minimal_bignum_tags_just_beyond_64_bits(value, encoding):
    assert dumps(value).hex() == encoding


@pytest.mark.parametrize("value", [2**64, -(2**64) - 1, 2**200, -(2**200), 10**60 + 7])
def test_integers_beyond_64_bits_round_trip(value):
    encoded = dumps(value)

    assert loads(encoded) == value
    assert dumps(loads(encoded)) == encoded


# -- what decoding refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "a2616201616101",  # {"b": 1, "a": 1}
        "a3616101616302616202",  # {"a", "c", "b"}
        "a262616102616201",  # {"aa": 2, "b": 1}: the longer key first
    ],
)
def test_maps_with_unsorted_keys_are_refused(hex_bytes):
    with pytest.raises(DecodingError):
        loads(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "1801",  # 1 in one extra byte
        "190001",  # 1 in two extra bytes
        "1a00000001",  # 1 in four extra bytes
        "1b0000000000000001",  # 1 in eight extra bytes
        "3800",  # -1 in one extra byte
        "5801ff",  # a one-byte string with a one-byte length
        "780161",  # "a" with a one-byte length
        "980101",  # [1] with a one-byte length
        "b80161610101",  # {"a": 1} with a one-byte length
    ],
)
def test_non_minimal_integer_and_length_encodings_are_refused(hex_bytes):
    with pytest.raises(DecodingError):
        loads(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize(
    "hex_bytes",
    ["9f01ff", "bf616101ff", "5f4101ff", "7f6161ff"],
    ids=["list", "map", "bytes", "text"],
)
def test_indefinite_length_items_are_refused(hex_bytes):
    with pytest.raises(DecodingError):
        loads(bytes.fromhex(hex_bytes))


def test_duplicate_map_keys_are_refused():
    with pytest.raises(DecodingError, match="Duplicate"):
        loads(bytes.fromhex("a2616101616102"))


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "c074323031332d30332d32315432303a30343a30305a",  # tag 0: text datetime
        "c11a514b67b0",  # tag 1: epoch datetime
        "c24101",  # tag 2: a bignum that fits in a plain integer
        "c24a00010000000000000000",  # tag 2: 2**64 with a leading zero byte
        "c34100",  # tag 3: -1 as a negative bignum
        "c48221196ab3",  # tag 4: decimal fraction
        "d8184101",  # tag 24: embedded CBOR
        "d81c01",  # tag 28: shareable value
        "d82550" + "00" * 16,  # tag 37: UUID
        "d9010283010203",  # tag 258: set
        "d903e801",  # tag 1000: unknown
        "d9d9f701",  # tag 55799: self-described CBOR
    ],
)
def test_tags_other_than_canonical_bignums_are_refused(hex_bytes):
    with pytest.raises(DecodingError):
        loads(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize(
    "hex_bytes",
    ["f93c00", "fa3f800000", "fb3ff0000000000000"],
    ids=["half", "single", "double"],
)
def test_floats_are_refused_on_decode(hex_bytes):
    with pytest.raises(DecodingError, match="floats are not allowed"):
        loads(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize(
    "hex_bytes",
    ["f7", "e0", "f820", "a10101", "6180", "0101", "82", ""],
    ids=[
        "undefined",
        "simple-value",
        "extended-simple-value",
        "integer-map-key",
        "invalid-utf8",
        "trailing-bytes",
        "truncated",
        "empty",
    ],
)
def test_malformed_or_out_of_model_bytes_are_refused(hex_bytes):
    with pytest.raises(DecodingError):
        loads(bytes.fromhex(hex_bytes))


def test_only_bytes_can_be_decoded():
    with pytest.raises(DecodingError, match="expected bytes"):
        loads("a0")  # type: ignore[arg-type]


def test_nesting_deeper_than_the_maximum_depth_is_refused_on_decode():
    too_deep = b"\x81" * (MAX_DEPTH + 1) + b"\x80"

    with pytest.raises(DecodingError):
        loads(too_deep)


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(values)
def test_decoding_an_encoding_gives_the_value_back(value):
    assert loads(dumps(value)) == value


@settings(max_examples=200, deadline=None)
@given(values)
def test_re_encoding_a_decoded_value_gives_the_same_bytes(value):
    encoded = dumps(value)

    assert dumps(loads(encoded)) == encoded


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=24))
def test_any_bytes_that_decode_are_the_canonical_encoding_of_their_value(data):
    try:
        value = loads(data)
    except DecodingError:
        return
    assert dumps(value) == data
