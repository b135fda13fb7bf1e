"""Decoding memoises immutable ledger objects by their bytes, and only those."""

from __future__ import annotations

import pytest
from hypothesis import given

from dlt.crypto import Ed25519PrivateKey, SecureHash
from dlt.encoding import (
    DecodingError,
    EncodingError,
    canonical,
    decode,
    encode,
    register_codec,
    registry,
)
from dlt.encoding.canonical import dumps
from dlt.encoding.memo import MAX_PAYLOAD, DecodeMemo
from dlt.identity import X500Name
from dlt.ledger import StateRef
from fixtures.vectors import signed_transaction

from .test_registry import PROPERTY, registered_values


def test_decoding_the_same_bytes_again_returns_the_same_object():
    data = encode(StateRef(txhash=SecureHash.sha256(b"memo"), index=3))

    assert decode(data) is decode(bytes(data))


def test_a_memoised_object_still_passes_the_expected_type_check():
    data = encode(StateRef(txhash=SecureHash.sha256(b"typed"), index=0))
    decode(data, StateRef)

    with pytest.raises(DecodingError, match="expected SecureHash"):
        decode(data, SecureHash)


def test_plain_lists_and_maps_are_fresh_on_every_decode():
    data = encode([1, 2, 3])

    first = decode(data)
    first.append(4)

    assert decode(data) == [1, 2, 3]
    assert decode(encode({"a": 1})) is not decode(encode({"a": 1}))


def test_large_payloads_are_not_held():
    memo = DecodeMemo()
    memo.put(b"x" * (MAX_PAYLOAD + 1), object())

    assert len(memo) == 0


def test_the_least_recently_used_entry_goes_first():
    memo = DecodeMemo(entries=2)
    first, second, third = object(), object(), object()
    memo.put(b"1", first)
    memo.put(b"2", second)
    memo.get(b"1")
    memo.put(b"3", third)

    assert memo.get(b"1") is first
    assert memo.get(b"2") is None
    assert memo.get(b"3") is third


def test_the_byte_budget_bounds_what_is_held():
    memo = DecodeMemo(budget=10)
    memo.put(b"a" * 6, object())
    memo.put(b"b" * 6, object())

    assert len(memo) == 1
    assert memo.get(b"a" * 6) is None


# -- registered values built from scalar fields are shared between decodes -----------------


def typed_bytes(type_name: str, /, **fields: object) -> bytes:
    return dumps({"$type": type_name, **fields})


def test_a_name_inside_two_different_values_decodes_to_one_shared_object():
    name = X500Name.parse("O=Alice Solar, L=Leeds, C=GB")
    key = Ed25519PrivateKey.from_seed(bytes(32)).public_key

    first = decode(encode({"n": name, "tag": 1}))
    second = decode(encode({"n": name, "tag": 2}))

    assert first["n"] is second["n"]
    assert first["n"] == name
    assert decode(encode([key]))[0] is decode(encode([key, key]))[1]


def test_a_lenient_form_is_refused_even_once_its_canonical_form_is_shared():
    decode(encode(X500Name.parse("O=Alice Solar, L=Leeds, C=GB")))

    with pytest.raises(DecodingError):
        decode(typed_bytes("X500Name", name="L=Leeds, O=Alice Solar, C=GB"))


def test_a_canonical_form_decodes_once_a_lenient_form_of_it_was_refused():
    lenient = typed_bytes("X500Name", name="C=GB, L=Hull, O=Carol Flat")
    with pytest.raises(DecodingError):
        decode(lenient)
    with pytest.raises(DecodingError):
        decode(lenient)

    name = X500Name.parse("O=Carol Flat, L=Hull, C=GB")

    assert decode(encode(name)) == name


def outcome(data: bytes) -> object:
    """What decoding gives: the value, or the type of error."""
    try:
        return decode(data)
    except DecodingError as exc:
        return type(exc)


def test_fields_equal_in_python_but_of_another_type_are_not_confused():
    as_int = dumps({"$type": "SignatureMetadata", "platform_version": 1, "scheme": "x"})
    as_bool = dumps({"$type": "SignatureMetadata", "platform_version": True, "scheme": "x"})
    registry._leaves.clear()
    registry._decoded.clear()
    fresh = outcome(as_bool)
    registry._decoded.clear()

    decode(as_int)

    assert outcome(as_bool) == fresh


class Blob:
    def __init__(self, data: bytes) -> None:
        self.data = data


register_codec(
    "test.memo.Blob", Blob, ["data"], lambda b: {"data": b.data}, lambda f: Blob(f["data"])
)


def test_large_scalar_fields_are_not_shared():
    inside = dumps({"blobs": [{"$type": "test.memo.Blob", "data": b"x" * 2048}]})

    assert decode(inside)["blobs"][0] is not decode(inside)["blobs"][0]


def test_the_shared_values_are_bounded(monkeypatch):
    monkeypatch.setattr(registry, "_MAX_LEAVES", 3)
    for seed in range(10):
        decode(encode(SecureHash.sha256(bytes([seed]))))

        assert len(registry._leaves) <= 3


# -- a decoded object encodes to the bytes it came from ------------------------------------


def test_encoding_a_decoded_object_gives_the_bytes_it_was_decoded_from():
    stx = signed_transaction()
    data = encode(stx)
    registry._decoded.clear()

    decoded = decode(data)

    assert registry._decoded.encoding_of(decoded) is not None
    assert encode(decoded) == data == canonical.dumps_lowered(registry.to_value(decoded))


def test_a_copy_of_a_decoded_model_with_a_changed_field_encodes_afresh():
    ref = decode(encode(StateRef(txhash=SecureHash.sha256(b"copy"), index=1)))

    changed = ref.model_copy(update={"index": 2})
    unchanged = ref.model_copy()

    assert registry._decoded.encoding_of(changed) is None
    assert encode(changed) != encode(ref)
    assert decode(encode(changed)) == StateRef(txhash=ref.txhash, index=2)
    assert encode(unchanged) == encode(ref)


def test_an_evicted_object_is_forgotten_and_encodes_afresh():
    memo = DecodeMemo(entries=1)
    first, second = SecureHash.sha256(b"first"), SecureHash.sha256(b"second")
    memo.put(encode(first), first)
    memo.put(encode(second), second)

    assert memo.encoding_of(first) is None
    assert memo.encoding_of(second) == encode(second)


def test_an_equal_object_that_was_not_decoded_is_not_taken_for_the_decoded_one():
    memo = DecodeMemo()
    held = SecureHash.sha256(b"held")
    memo.put(encode(held), held)

    assert memo.encoding_of(SecureHash(held.bytes)) is None


def test_a_decoded_plain_list_changed_afterwards_encodes_with_the_change():
    data = encode([1, 2])
    value = decode(data)
    value.append(3)

    assert encode(value) == encode([1, 2, 3])


@PROPERTY
@given(registered_values)
def test_decoded_and_freshly_lowered_encodings_are_byte_identical(value):
    decoded = decode(encode(value))

    assert encode(decoded) == canonical.dumps_lowered(registry.to_value(decoded)) == encode(value)


def test_a_shared_object_encodes_as_a_fresh_equal_one_does():
    name = X500Name.parse("O=Dan Wind, L=Bath, C=GB")
    shared = decode(encode({"n": name}))["n"]
    fresh = X500Name.parse("O=Dan Wind, L=Bath, C=GB")

    assert shared is not fresh
    assert (
        encode([shared])
        == encode([fresh])
        == canonical.dumps([{"$type": "X500Name", "name": str(fresh)}])
    )


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "fresh"])
def test_a_shared_object_nested_too_deep_is_refused_as_a_fresh_one_is(shared):
    digest = SecureHash.sha256(b"deep")
    leaf = decode(encode({"h": digest}))["h"] if shared else SecureHash(digest.bytes)
    fits, too_deep = leaf, leaf
    for _ in range(canonical.MAX_DEPTH - 1):
        fits = [fits]
    too_deep = [fits]

    assert decode(encode(fits)) == fits
    with pytest.raises(EncodingError, match="nests deeper"):
        encode(too_deep)
