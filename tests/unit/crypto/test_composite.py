"""Composite keys: threshold semantics against a brute-force model, canonical form, limits."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.crypto import (
    CompositeKey,
    CompositeKeyError,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    InvalidKeyError,
    InvalidSignatureError,
    PublicKey,
    SecureHash,
    parse_public_key,
)
from dlt.encoding import DecodingError, decode, encode
from dlt.encoding.canonical import dumps, loads

PRIVATE_KEYS = [Ed25519PrivateKey.from_seed(bytes([i]) * 32) for i in range(256)]
KEYS: list[Ed25519PublicKey] = [private.public_key for private in PRIVATE_KEYS]
K0, K1, K2, K3, K4, K5, K6 = KEYS[:7]

FAST = settings(max_examples=100, deadline=None)


# -- an independent model of threshold trees ------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A threshold over weighted children; a child is a key or another Node."""

    threshold: int
    children: tuple[tuple[Spec, int], ...]


Spec = Ed25519PublicKey | Node


def satisfied(spec: Spec, signers: set[PublicKey]) -> bool:
    """Brute force: add up the weights of satisfied children and compare."""
    if isinstance(spec, Node):
        weight = sum(w for child, w in spec.children if satisfied(child, signers))
        return weight >= spec.threshold
    return spec in signers


def leaves_of(spec: Spec) -> list[Ed25519PublicKey]:
    if isinstance(spec, Node):
        return [leaf for child, _ in spec.children for leaf in leaves_of(child)]
    return [spec]


def build(spec: Spec) -> PublicKey:
    """Build a key from the model, passing weight-1 children as bare keys."""
    if not isinstance(spec, Node):
        return spec
    children: list[Any] = []
    for child, weight in spec.children:
        key = build(child)
        children.append(key if weight == 1 else (key, weight))
    return CompositeKey.build(children, threshold=spec.threshold)


@st.composite
def specs(draw: st.DrawFn, max_depth: int = 3, max_children: int = 6) -> Spec:
    """Random trees whose leaves are all different keys, so siblings are never duplicates."""
    next_key = iter(KEYS)

    def node(depth: int) -> Node:
        children: list[tuple[Spec, int]] = []
        for _ in range(draw(st.integers(1, max_children))):
            is_leaf = depth == max_depth or draw(st.booleans())
            child: Spec = next(next_key) if is_leaf else node(depth + 1)
            children.append((child, draw(st.integers(1, 3))))
        total = sum(weight for _, weight in children)
        return Node(draw(st.integers(1, total)), tuple(children))

    return node(1)


small_specs = st.one_of(specs(max_depth=2, max_children=3), specs(max_depth=3, max_children=2))


@st.composite
def shuffled(draw: st.DrawFn, spec: Spec) -> Spec:
    if not isinstance(spec, Node):
        return spec
    children = [(draw(shuffled(child)), weight) for child, weight in spec.children]
    return Node(spec.threshold, tuple(draw(st.permutations(children))))


# -- threshold semantics --------------------------------------------------------------------


@FAST
@given(specs(), st.data())
def test_fulfilment_matches_the_brute_force_model(spec: Spec, data: st.DataObject) -> None:
    key = build(spec)
    candidates = [*leaves_of(spec), KEYS[-1], KEYS[-2]]
    signers = data.draw(st.sets(st.sampled_from(candidates)))
    assert key.is_fulfilled_by(signers) == satisfied(spec, signers)


@settings(max_examples=60, deadline=None)
@given(small_specs)
def test_fulfilment_matches_the_model_for_every_subset_of_leaves(spec: Spec) -> None:
    key = build(spec)
    leaves = leaves_of(spec)
    for size in range(len(leaves) + 1):
        for subset in combinations(leaves, size):
            assert key.is_fulfilled_by(subset) == satisfied(spec, set(subset)), subset


@FAST
@given(specs())
def test_leaf_keys_are_the_single_keys_of_the_tree(spec: Spec) -> None:
    assert build(spec).leaf_keys == frozenset(leaves_of(spec))


def test_two_of_three() -> None:
    key = CompositeKey.build([K0, K1, K2], threshold=2)
    for pair in combinations([K0, K1, K2], 2):
        assert key.is_fulfilled_by(pair)
    for single in (K0, K1, K2):
        assert not key.is_fulfilled_by([single])
    assert not key.is_fulfilled_by([K3, K4])


@pytest.mark.parametrize("faulty", [1, 2])
def test_bft_notary_needs_two_f_plus_one_of_three_f_plus_one(faulty: int) -> None:
    members = KEYS[: 3 * faulty + 1]
    key = CompositeKey.build(members, threshold=2 * faulty + 1)
    for size in range(len(members) + 1):
        for subset in combinations(members, size):
            assert key.is_fulfilled_by(subset) == (size >= 2 * faulty + 1)


def test_three_of_four_notary_cluster() -> None:
    key = CompositeKey.build([K0, K1, K2, K3], threshold=3)
    assert key.is_fulfilled_by([K0, K2, K3])
    assert not key.is_fulfilled_by([K1, K3])


def test_weights_count_towards_the_threshold() -> None:
    key = CompositeKey.build([(K0, 2), K1, K2], threshold=3)
    assert key.is_fulfilled_by([K0, K2])
    assert not key.is_fulfilled_by([K1, K2])


def test_threshold_defaults_to_every_child_signing() -> None:
    key = CompositeKey.build([K0, (K1, 2)])
    assert isinstance(key, CompositeKey)
    assert key.threshold == key.total_weight == 3
    assert key.is_fulfilled_by([K0, K1])
    assert not key.is_fulfilled_by([K1])


def test_a_key_may_appear_in_several_branches() -> None:
    key = CompositeKey.build(
        [CompositeKey.build([K0, K1], threshold=1), CompositeKey.build([K0, K2])]
    )
    assert key.leaf_keys == {K0, K1, K2}
    assert key.is_fulfilled_by([K0, K2])
    assert not key.is_fulfilled_by([K0])
    assert not key.is_fulfilled_by([K1, K2])


def test_a_composite_key_among_the_signers_fulfils_nothing() -> None:
    inner = CompositeKey.build([K0, K1])
    outer = CompositeKey.build([inner, K2], threshold=1)
    assert not inner.is_fulfilled_by([inner])
    assert not outer.is_fulfilled_by([inner])
    assert outer.is_fulfilled_by([K0, K1])


def test_signers_may_be_any_iterable_consumed_once() -> None:
    key = CompositeKey.build([CompositeKey.build([K0, K1]), K2], threshold=2)
    assert key.is_fulfilled_by(iter([K0, K1, K2]))


def test_leaf_signatures_then_fulfilment_is_how_a_composite_key_is_checked() -> None:
    key = CompositeKey.build([K0, K1, K2], threshold=2)
    data = b"transaction id"
    signatures = {PRIVATE_KEYS[0].public_key: PRIVATE_KEYS[0].sign(data)}
    signatures[K2] = PRIVATE_KEYS[2].sign(data)
    signatures[K1] = PRIVATE_KEYS[1].sign(b"something else")
    signed = {leaf for leaf, sig in signatures.items() if leaf.is_valid(sig, data)}
    assert signed == {K0, K2}
    assert key.is_fulfilled_by(signed)


def test_a_composite_key_never_verifies_a_signature_itself() -> None:
    key = CompositeKey.build([K0, K1], threshold=1)
    signature = PRIVATE_KEYS[0].sign(b"data")
    with pytest.raises(InvalidSignatureError, match="is_fulfilled_by"):
        key.verify(signature, b"data")
    assert not key.is_valid(signature, b"data")


# -- canonical form -------------------------------------------------------------------------


@FAST
@given(st.data())
def test_build_is_independent_of_child_order(data: st.DataObject) -> None:
    spec = data.draw(specs())
    key = build(spec)
    other = build(data.draw(shuffled(spec)))
    assert other == key
    assert other.encoded == key.encoded
    assert hash(other) == hash(key)
    assert other.fingerprint == key.fingerprint


def test_children_are_stored_sorted_by_encoding() -> None:
    key = CompositeKey.build([K3, (K1, 2), K2, K0], threshold=2)
    assert isinstance(key, CompositeKey)
    encodings = [child.encoded for child, _ in key.children]
    assert encodings == sorted(encodings)
    assert dict(key.children) == {K0: 1, K1: 2, K2: 1, K3: 1}


def test_different_thresholds_or_weights_are_different_keys() -> None:
    assert CompositeKey.build([K0, K1], threshold=1) != CompositeKey.build([K0, K1])
    assert CompositeKey.build([K0, K1]) != CompositeKey.build([(K0, 2), K1])


def test_one_child_that_reaches_the_threshold_is_the_key_itself() -> None:
    assert CompositeKey.build([K0]) is K0
    assert CompositeKey.build([(K0, 3)], threshold=2) is K0
    inner = CompositeKey.build([K0, K1])
    assert CompositeKey.build([inner]) is inner


def test_a_composite_key_is_never_equal_to_a_single_key() -> None:
    assert CompositeKey.build([K0, K1], threshold=1) != K0


def test_repr_shows_threshold_and_total_weight() -> None:
    key = CompositeKey.build([K0, (K1, 2)], threshold=2)
    assert repr(key) == f"CompositeKey(2 of 3, 2 children, {key.fingerprint.prefix(12)})"


# -- encoding -------------------------------------------------------------------------------


@FAST
@given(specs())
def test_composite_keys_round_trip_through_the_encoding(spec: Spec) -> None:
    key = build(spec)
    data = encode(key)
    decoded = decode(data, PublicKey)
    assert decoded == key
    assert type(decoded) is type(key)
    assert decoded.encoded == data
    if isinstance(key, CompositeKey):
        assert isinstance(decoded, CompositeKey)
        assert decoded.threshold == key.threshold
        assert decoded.children == key.children


@FAST
@given(specs())
def test_composite_keys_round_trip_through_their_text_form(spec: Spec) -> None:
    key = build(spec)
    assert key.to_string().startswith("key:")
    assert parse_public_key(key.to_string()) == key


def _value_of(key: PublicKey) -> dict[str, Any]:
    value = loads(encode(key))
    assert isinstance(value, dict)
    return value


def _reencoded(key: PublicKey, **changes: Any) -> bytes:
    value = _value_of(key)
    value.update(changes)
    return dumps(value)


TWO_OF_THREE = CompositeKey.build([K0, K1, K2], threshold=2)
CHILDREN = _value_of(TWO_OF_THREE)["children"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"children": CHILDREN[::-1]}, "sorted by their encoding"),
        ({"children": CHILDREN[:1], "threshold": 1}, "at least two children"),
        ({"children": [], "threshold": 1}, "at least two children"),
        ({"children": [CHILDREN[0], CHILDREN[0]]}, "appears more than once"),
        ({"threshold": 4}, "threshold 4 is out of range"),
        ({"threshold": 0}, "threshold 0 is out of range"),
        ({"threshold": "2"}, "threshold '2' is out of range"),
        ({"children": [{**CHILDREN[0], "weight": 0}, *CHILDREN[1:]]}, "weight 0"),
        ({"children": [{"key": CHILDREN[0]["key"]}, *CHILDREN[1:]]}, "exactly key and weight"),
        ({"children": "none"}, "must be a list"),
        (
            {"children": [{"key": loads(encode(SecureHash.ZERO)), "weight": 1}, *CHILDREN[1:]]},
            "not a PublicKey",
        ),
        ({"extra": 1}, "expected fields"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_decoding_accepts_only_the_canonical_form(changes: dict[str, Any], message: str) -> None:
    data = _reencoded(TWO_OF_THREE, **changes)
    with pytest.raises(DecodingError, match=message):
        decode(data)
    with pytest.raises(InvalidKeyError):
        parse_public_key("key:" + data.hex())


# -- invalid builds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("children", "threshold", "message"),
    [
        ([], None, "at least one child"),
        ([(K0, 0), K1], None, "has weight 0"),
        ([(K0, -2), K1], None, "weights are integers of at least 1"),
        ([(K0, True), K1], None, "has weight True"),
        ([K0, K1], 0, "threshold 0 is out of range"),
        ([K0, K1], 3, "total weight of the children, 2"),
        ([(K0, 1)], 2, "threshold 2 is out of range"),
        ([K0, K1], "1", "threshold '1' is out of range"),
        ([K0, K1, K0], None, "appears more than once"),
        ([K0, (K0, 2)], None, "appears more than once"),
        (["key:00"], None, "child 0 is a str, not a PublicKey"),
        ([K0, (K1, 1, 1)], None, "child 1 is a tuple"),
        ([K0, (b"raw", 1)], None, "child 1 is a bytes"),
    ],
)
def test_invalid_builds_explain_what_is_wrong(
    children: list[Any], threshold: Any, message: str
) -> None:
    with pytest.raises(CompositeKeyError, match=message):
        CompositeKey.build(children, threshold=threshold)


def test_children_must_be_a_sequence() -> None:
    with pytest.raises(CompositeKeyError, match="sequence"):
        CompositeKey.build(K0)  # type: ignore[arg-type]


def test_composite_key_errors_are_invalid_key_errors() -> None:
    assert issubclass(CompositeKeyError, InvalidKeyError)


def _nested(levels: int) -> PublicKey:
    key: PublicKey = KEYS[0]
    for level in range(1, levels + 1):
        key = CompositeKey.build([key, KEYS[level]], threshold=1)
    return key


def test_nesting_sixteen_levels_deep_is_allowed_and_encodable() -> None:
    key = _nested(16)
    assert decode(encode(key), PublicKey) == key
    assert key.is_fulfilled_by([KEYS[0]])


def test_nesting_seventeen_levels_deep_is_refused() -> None:
    with pytest.raises(CompositeKeyError, match="at most 16 levels deep, this one has 17"):
        _nested(17)


def test_up_to_1024_leaves_are_allowed() -> None:
    key = CompositeKey.build([CompositeKey.build(KEYS, threshold=t) for t in range(1, 5)])
    assert isinstance(key, CompositeKey)
    assert key.is_fulfilled_by(KEYS)


def test_more_than_1024_leaves_are_refused_counting_repeats() -> None:
    branches = [CompositeKey.build(KEYS, threshold=t) for t in range(1, 6)]
    with pytest.raises(CompositeKeyError, match=r"at most 1024 leaves.*has 1280"):
        CompositeKey.build(branches, threshold=1)


def test_constructor_takes_only_the_canonical_form() -> None:
    low, high = sorted([K0, K1], key=lambda key: key.encoded)
    assert CompositeKey(1, [(low, 1), (high, 1)]) == CompositeKey.build([K0, K1], threshold=1)
    with pytest.raises(CompositeKeyError, match="sorted by their encoding"):
        CompositeKey(1, [(high, 1), (low, 1)])
    with pytest.raises(CompositeKeyError, match="at least two children"):
        CompositeKey(1, [(K0, 1)])
