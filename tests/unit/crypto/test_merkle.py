"""Merkle trees: hand-computed roots, multi-leaf proofs, tampering, and the wire form."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlt.crypto import (
    CryptoError,
    MerkleProof,
    MerkleProofError,
    MerkleTree,
    MerkleTreeError,
    SecureHash,
    merkle_root,
)
from dlt.encoding import DecodingError, decode, encode
from dlt.encoding.canonical import dumps

ZERO = SecureHash.ZERO


def leaf(n: int) -> SecureHash:
    return SecureHash(hashlib.sha256(b"leaf %d" % n).digest())


def node(left: SecureHash, right: SecureHash) -> SecureHash:
    """An inner node computed straight from hashlib, independently of the tree's code."""
    return SecureHash(hashlib.sha256(b"\x01" + left.bytes + right.bytes).digest())


def lf(value: SecureHash) -> SecureHash:
    """The node a leaf value becomes, computed straight from hashlib."""
    return SecureHash(hashlib.sha256(b"\x00" + value.bytes).digest())


A, B, C, D, E, F, G, H = (leaf(n) for n in range(8))
a, b, c, d, e, f, g, h = (lf(value) for value in (A, B, C, D, E, F, G, H))

hashes = st.binary(min_size=32, max_size=32).map(SecureHash)
leaf_lists = st.lists(hashes, min_size=1, max_size=64)
FAST = settings(max_examples=150, deadline=None)


@st.composite
def trees_with_subsets(draw: st.DrawFn) -> tuple[list[SecureHash], list[int]]:
    leaves = draw(leaf_lists)
    indices = draw(st.sets(st.integers(0, len(leaves) - 1), min_size=1))
    return leaves, sorted(indices)


def revealed(leaves: list[SecureHash], indices: list[int]) -> dict[int, SecureHash]:
    return {index: leaves[index] for index in indices}


# -- roots --------------------------------------------------------------------------------


def test_one_leaf_tree_has_the_leaf_node_as_its_root() -> None:
    assert MerkleTree([A]).root == a


def test_two_leaves_hash_together() -> None:
    assert MerkleTree([A, B]).root == node(a, b)


def test_three_leaves_are_padded_with_zero_to_four() -> None:
    assert MerkleTree([A, B, C]).root == node(node(a, b), node(c, ZERO))


def test_five_leaves_are_padded_with_zero_to_eight() -> None:
    expected = node(node(node(a, b), node(c, d)), node(node(e, ZERO), node(ZERO, ZERO)))
    assert MerkleTree([A, B, C, D, E]).root == expected


def test_an_inner_node_presented_as_a_leaf_gives_another_root() -> None:
    """Domain separation: a two-leaf tree's root, given as a one-leaf tree's leaf, does not
    reproduce it, so a proof can never pass an inner node off as a component."""
    inner = MerkleTree([A, B]).root

    assert MerkleTree([inner]).root != inner
    assert MerkleTree([A, B, C, D]).root != MerkleTree([inner, MerkleTree([C, D]).root]).root


def test_merkle_root_agrees_with_the_tree() -> None:
    leaves = [A, B, C, D, E]
    assert merkle_root(leaves) == MerkleTree(leaves).root


def test_tree_keeps_its_leaves_without_padding() -> None:
    assert MerkleTree([A, B, C]).leaves == (A, B, C)


def test_no_leaves_is_a_merkle_tree_error() -> None:
    with pytest.raises(MerkleTreeError, match="at least one leaf"):
        MerkleTree([])
    with pytest.raises(MerkleTreeError, match="at least one leaf"):
        merkle_root([])


def test_leaves_must_be_secure_hashes() -> None:
    with pytest.raises(MerkleTreeError, match="leaf 1 is a bytes"):
        MerkleTree([A, B.bytes])  # type: ignore[list-item]


def test_merkle_errors_are_crypto_errors_and_value_errors() -> None:
    assert issubclass(MerkleTreeError, CryptoError)
    assert issubclass(MerkleTreeError, ValueError)
    assert issubclass(MerkleProofError, MerkleTreeError)


# -- proof shape --------------------------------------------------------------------------


def test_proof_hashes_go_bottom_up_then_left_to_right() -> None:
    tree = MerkleTree([A, B, C, D, E, F, G, H])
    proof = tree.prove([5, 0])
    assert proof.indices == (0, 5)
    assert proof.hashes == (b, e, node(c, d), node(g, h))


def test_proof_of_every_leaf_needs_no_hashes() -> None:
    assert MerkleTree([A, B, C, D, E]).prove(range(5)).hashes == ()


def test_proof_of_one_leaf_in_a_full_tree_has_one_hash_per_level() -> None:
    proof = MerkleTree([A, B, C, D, E, F, G, H]).prove([6])
    assert proof.hashes == (h, node(e, f), node(node(a, b), node(c, d)))


def test_padding_subtrees_are_left_out_of_the_proof() -> None:
    proof = MerkleTree([A, B, C, D, E]).prove([4])
    assert proof.hashes == (node(node(a, b), node(c, d)),)
    assert proof.verify(MerkleTree([A, B, C, D, E]).root, {4: E})


def test_subtree_mixing_leaves_and_padding_is_sent_as_a_hash() -> None:
    proof = MerkleTree([A, B, C]).prove([0])
    assert proof.hashes == (b, node(c, ZERO))


def test_repeated_indices_are_proved_once() -> None:
    tree = MerkleTree([A, B, C])
    assert tree.prove([2, 0, 2]) == tree.prove([0, 2])


@pytest.mark.parametrize("indices", [[], [3], [-1], [0, 7]])
def test_proving_no_leaf_or_a_leaf_outside_the_tree_is_an_error(indices: list[int]) -> None:
    with pytest.raises(MerkleTreeError):
        MerkleTree([A, B, C]).prove(indices)


def test_proof_carries_the_real_leaf_count() -> None:
    assert MerkleTree([A, B, C, D, E]).prove([1]).leaf_count == 5


# -- proofs verify ------------------------------------------------------------------------


@FAST
@given(trees_with_subsets())
def test_any_subset_of_leaves_proves_against_the_root(
    case: tuple[list[SecureHash], list[int]],
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    proof = tree.prove(indices)
    assert proof.indices == tuple(indices)
    assert proof.compute_root(revealed(leaves, indices)) == tree.root
    assert proof.verify(tree.root, revealed(leaves, indices))


@FAST
@given(trees_with_subsets(), st.data())
def test_a_tampered_leaf_fails(
    case: tuple[list[SecureHash], list[int]], data: st.DataObject
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    proof = tree.prove(indices)
    target = data.draw(st.sampled_from(indices))
    forged = data.draw(hashes.filter(lambda h: h != leaves[target]))
    assert not proof.verify(tree.root, {**revealed(leaves, indices), target: forged})


@FAST
@given(trees_with_subsets(), st.data())
def test_a_tampered_proof_hash_fails(
    case: tuple[list[SecureHash], list[int]], data: st.DataObject
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    proof = tree.prove(indices)
    assume(proof.hashes)
    position = data.draw(st.integers(0, len(proof.hashes) - 1))
    forged = data.draw(hashes.filter(lambda h: h != proof.hashes[position]))
    tampered = list(proof.hashes)
    tampered[position] = forged
    bad = MerkleProof(proof.leaf_count, proof.indices, tampered)
    assert not bad.verify(tree.root, revealed(leaves, indices))


@FAST
@given(trees_with_subsets(), st.data())
def test_a_leaf_count_of_another_padded_size_fails(
    case: tuple[list[SecureHash], list[int]], data: st.DataObject
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    proof = tree.prove(indices)
    padded = 1 << (len(leaves) - 1).bit_length()
    forged_count = data.draw(
        st.integers(max(indices) + 1, 4 * padded).filter(
            lambda n: 1 << (n - 1).bit_length() != padded
        )
    )
    bad = MerkleProof(forged_count, proof.indices, proof.hashes)
    assert not bad.verify(tree.root, revealed(leaves, indices))


@pytest.mark.parametrize(
    ("leaves", "index", "forged_count"),
    [([A, B, C, D, E, F, G], 4, 5), ([A, B, C, D, E, F, G], 4, 6), ([A, B, C, D, E, F], 5, 7)],
)
def test_a_leaf_count_that_moves_the_padding_past_a_sibling_fails(
    leaves: list[SecureHash], index: int, forged_count: int
) -> None:
    tree = MerkleTree(leaves)
    proof = tree.prove([index])
    bad = MerkleProof(forged_count, proof.indices, proof.hashes)
    assert not bad.verify(tree.root, {index: leaves[index]})


def test_padding_is_not_a_leaf() -> None:
    assert MerkleTree([A, B, C, ZERO]).root != MerkleTree([A, B, C]).root


def test_a_proofs_leaf_count_is_no_evidence_of_the_real_count() -> None:
    """Leaves hidden inside a sibling hash are never seen by the verifier, so callers that
    need the count must take it from a source they trust."""
    six = MerkleTree([A, B, C, D, E, F])
    assert MerkleProof(5, [0], six.prove([0]).hashes).verify(six.root, {0: A})


@FAST
@given(trees_with_subsets(), hashes)
def test_a_proof_fails_against_another_root(
    case: tuple[list[SecureHash], list[int]], other_root: SecureHash
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    assume(other_root != tree.root)
    assert not tree.prove(indices).verify(other_root, revealed(leaves, indices))


@FAST
@given(trees_with_subsets())
def test_a_proof_with_a_hash_missing_or_extra_fails(
    case: tuple[list[SecureHash], list[int]],
) -> None:
    leaves, indices = case
    tree = MerkleTree(leaves)
    proof = tree.prove(indices)
    leaf_map = revealed(leaves, indices)
    variants = [(*proof.hashes, ZERO)]
    if proof.hashes:
        variants.append(proof.hashes[:-1])
    for variant in variants:
        bad = MerkleProof(proof.leaf_count, proof.indices, variant)
        assert not bad.verify(tree.root, leaf_map)
        with pytest.raises(MerkleProofError, match=r"too few|more hashes"):
            bad.compute_root(leaf_map)


def test_verification_is_logarithmic_in_the_leaf_count() -> None:
    """A proof about 2**40 leaves checks in 40 steps; building such a tree would never end."""
    siblings = [leaf(n) for n in range(40)]
    expected = a
    for sibling in siblings:
        expected = node(expected, sibling)
    proof = MerkleProof(2**40, [0], siblings)
    assert proof.compute_root({0: A}) == expected


# -- leaves supplied to the verifier -------------------------------------------------------


@pytest.mark.parametrize(
    "leaves",
    [{0: A}, {0: A, 2: C, 3: D}, {0: A, 1: B}, {}],
    ids=["missing", "extra", "different", "empty"],
)
def test_leaves_other_than_the_proof_indices_raise(leaves: dict[int, SecureHash]) -> None:
    tree = MerkleTree([A, B, C, D])
    proof = tree.prove([0, 2])
    with pytest.raises(MerkleProofError, match="reveals leaves"):
        proof.compute_root(leaves)
    with pytest.raises(MerkleProofError, match="reveals leaves"):
        proof.verify(tree.root, leaves)


def test_a_leaf_that_is_not_a_hash_raises() -> None:
    proof = MerkleTree([A, B]).prove([0])
    with pytest.raises(MerkleProofError, match="not a SecureHash"):
        proof.compute_root({0: A.bytes})  # type: ignore[dict-item]


# -- the proof as a value ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leaf_count", "indices", "proof_hashes", "message"),
    [
        (0, [0], [], "leaf_count must be a positive integer"),
        (True, [0], [], "leaf_count must be a positive integer"),
        (4, [], [], "at least one leaf"),
        (4, [4], [], "outside a tree of 4 leaves"),
        (4, [-1], [], "outside a tree of 4 leaves"),
        (4, [2, 1], [], "sorted and unique"),
        (4, [1, 1], [], "sorted and unique"),
        (4, [0], [b"\0" * 32], "not a SecureHash"),
    ],
)
def test_proof_constructor_rejects_malformed_proofs(
    leaf_count: int, indices: list[int], proof_hashes: list[SecureHash], message: str
) -> None:
    with pytest.raises(MerkleProofError, match=message):
        MerkleProof(leaf_count, indices, proof_hashes)


def test_proofs_are_equal_hashable_values() -> None:
    tree = MerkleTree([A, B, C])
    assert tree.prove([1]) == tree.prove([1])
    assert hash(tree.prove([1])) == hash(tree.prove([1]))
    assert tree.prove([1]) != tree.prove([2])
    assert tree.prove([1]) != MerkleProof(4, [1], tree.prove([1]).hashes)


def test_proofs_are_immutable() -> None:
    proof = MerkleTree([A, B]).prove([0])
    with pytest.raises(AttributeError):
        proof.leaf_count = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        proof.extra = 1  # type: ignore[attr-defined]


def test_proof_repr_shows_its_shape() -> None:
    proof = MerkleTree([A, B, C]).prove([0])
    assert repr(proof) == (
        f"MerkleProof(leaf_count=3, indices=(0,), hashes=[{b.prefix()}, {node(c, ZERO).prefix()}])"
    )


@FAST
@given(trees_with_subsets())
def test_proofs_round_trip_through_the_encoding(
    case: tuple[list[SecureHash], list[int]],
) -> None:
    leaves, indices = case
    proof = MerkleTree(leaves).prove(indices)
    data = encode(proof)
    assert decode(data, MerkleProof) == proof
    assert encode(decode(data)) == data


def _encoded_proof(**fields: object) -> bytes:
    value = {"$type": "MerkleProof", "leaf_count": 2, "indices": [0], "hashes": []}
    value.update(fields)
    return dumps({k: v for k, v in value.items() if v is not None})  # type: ignore[arg-type]


def test_proof_encoding_is_a_typed_map() -> None:
    hashed = {"$type": "SecureHash", "sha256": b.bytes}
    assert encode(MerkleTree([A, B]).prove([0])) == _encoded_proof(hashes=[hashed])


@pytest.mark.parametrize(
    "fields",
    [
        {"leaf_count": "2"},
        {"leaf_count": True},
        {"indices": 0},
        {"indices": [False]},
        {"indices": [1, 0]},
        {"indices": [2]},
        {"hashes": [b"\0" * 32]},
        {"hashes": "none"},
        {"leaf_count": None},
        {"extra": 1},
    ],
    ids=repr,
)
def test_decoding_rejects_malformed_proofs(fields: dict[str, object]) -> None:
    with pytest.raises(DecodingError, match="invalid MerkleProof"):
        decode(_encoded_proof(**fields))
