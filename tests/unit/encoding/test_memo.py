"""Decoding memoises immutable ledger objects by their bytes, and only those."""

from __future__ import annotations

import pytest

from dlt.crypto import SecureHash
from dlt.encoding import DecodingError, decode, encode
from dlt.encoding.memo import MAX_PAYLOAD, DecodeMemo
from dlt.ledger import StateRef


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
