"""Lowering builds every map in canonical key order, so cbor2 need not sort it.

`encode` writes the lowered value in insertion order; these specify that the bytes are exactly
what cbor2's canonical mode writes for the same value, for every kind of value the ledger holds.
"""

from __future__ import annotations

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from dlt.encoding import EncodingError, decode, encode, register_codec, serializable
from dlt.encoding.canonical import dumps, key_order
from dlt.encoding.registry import to_value
from dlt.ledger import ComponentGroup
from fixtures.vectors import signed_transaction

from .test_registry import PROPERTY, map_keys, parties, plain_values, registered_values


def cbor2_canonical(value: object) -> bytes:
    return cbor2.dumps(to_value(value), canonical=True)


@serializable("test.lowering.Spread")
class Spread(BaseModel):
    """Field names sorting before, level with and after the type key, declared out of order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zebra: int
    a: str
    typed: bytes
    é: int
    longest_name: list[int]


SPREAD = Spread(zebra=1, a="x", typed=b"t", é=2, longest_name=[3])


class Late:
    """Registered only after a first attempt to encode it."""


def test_text_keys_order_by_utf8_length_then_bytes():
    keys = ["zz", "é", "a", "b", "aaa"]

    assert sorted(keys, key=key_order) == ["a", "b", "zz", "é", "aaa"]


def test_a_model_encodes_its_fields_in_canonical_order_whatever_their_declared_order():
    assert encode(SPREAD) == cbor2_canonical(SPREAD)
    assert list(to_value(SPREAD)) == ["a", "é", "$type", "typed", "zebra", "longest_name"]
    assert decode(encode(SPREAD)) == SPREAD


def test_a_plain_map_encodes_in_canonical_order_whatever_its_insertion_order():
    value = {"aaa": 1, "é": 2, "zz": 3, "b": 4, "a": [{"yy": 5, "x": 6}]}

    assert encode(value) == dumps(value) == cbor2.dumps(value, canonical=True)


def test_a_codec_writing_its_fields_in_any_order_encodes_canonically():
    def reversed_fields(_: object) -> dict[str, object]:
        return {"us": 1, "aaaaaa": 2}

    class Backwards:
        pass

    register_codec("test.lowering.Backwards", Backwards, ["aaaaaa", "us"], reversed_fields, dict)

    assert encode(Backwards()) == cbor2_canonical(Backwards())


def test_a_type_registered_after_a_refusal_encodes():
    late = Late()
    with pytest.raises(EncodingError, match="not a registered ledger type"):
        encode(late)
    register_codec("test.lowering.Late", Late, [], lambda _: {}, lambda _: Late())

    assert encode(late) == dumps({"$type": "test.lowering.Late"})


def test_a_signed_transaction_and_all_its_components_encode_canonically():
    stx = signed_transaction()

    assert encode(stx) == cbor2_canonical(stx)
    for group in ComponentGroup:
        for component in stx.tx.components(group):
            assert encode(decode(component)) == component == cbor2_canonical(decode(component))


@PROPERTY
@given(plain_values)
def test_plain_values_encode_as_cbor2_canonical_mode_does(value):
    assert encode(value) == cbor2_canonical(value) == dumps(value)


@PROPERTY
@given(st.lists(registered_values, max_size=4), st.dictionaries(map_keys, parties, max_size=3))
def test_registered_values_encode_as_cbor2_canonical_mode_does(items, by_name):
    value = {"items": items, "by_name": by_name, "set": frozenset(items)}

    assert encode(value) == cbor2_canonical(value)
