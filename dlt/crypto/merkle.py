"""Merkle trees over SHA-256 with proofs that reveal any subset of leaves at once.

Hashing is domain-separated, as in RFC 6962: a leaf value `v` enters the tree as the leaf node
``SHA-256(0x00 || v)`` and an inner node is ``SHA-256(0x01 || left || right)``, so no inner node
can be presented as a leaf, nor a leaf as an inner node, whatever the leaf values are. The
leaf nodes are padded with `SecureHash.ZERO` up to the next power of two; a tree of one leaf has
that leaf's node as its root.

A `MerkleProof` reveals some leaves and carries the fewest sibling hashes that let a verifier
recompute the root. Subtrees made only of padding are never sent: the verifier knows they hash
to ZERO-derived values and fills them in itself.

Padding is not a leaf: ``[a, b, c]`` and ``[a, b, c, ZERO]`` have different roots, since the
fourth leaf node of the second is ``SHA-256(0x00 || ZERO)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from dlt.crypto.errors import CryptoError
from dlt.crypto.hashing import SecureHash
from dlt.encoding import register_codec


class MerkleTreeError(CryptoError, ValueError):
    """A tree or a proof request that cannot exist: no leaves, or indices outside the tree."""


class MerkleProofError(MerkleTreeError):
    """A proof that is malformed, or checked against leaves it does not cover."""


_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_node(value: SecureHash) -> SecureHash:
    """The node a leaf value becomes in the tree."""
    return SecureHash.sha256(_LEAF_PREFIX + value.bytes)


def inner_node(left: SecureHash, right: SecureHash) -> SecureHash:
    """The parent of two nodes."""
    return SecureHash.sha256(_NODE_PREFIX + left.bytes + right.bytes)


_zero_hashes: list[SecureHash] = [SecureHash.ZERO]


def _zero_hash(level: int) -> SecureHash:
    """The hash of a subtree of height `level` holding only padding, memoised."""
    while len(_zero_hashes) <= level:
        below = _zero_hashes[-1]
        _zero_hashes.append(inner_node(below, below))
    return _zero_hashes[level]


def _depth(leaf_count: int) -> int:
    """The height of the padded tree: log2 of the next power of two at or above `leaf_count`."""
    return (leaf_count - 1).bit_length()


def _is_padding(position: int, level: int, leaf_count: int) -> bool:
    """Whether the node at (`level`, `position`) covers only padding leaves."""
    return position << level >= leaf_count


def _parent_level(nodes: Sequence[SecureHash], level: int) -> list[SecureHash]:
    """Hash pairs of nodes; an odd last node is paired with the padding subtree beside it."""
    parents = [inner_node(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
    if len(nodes) % 2:
        parents.append(inner_node(nodes[-1], _zero_hash(level)))
    return parents


def _checked_leaves(leaves: Sequence[SecureHash]) -> tuple[SecureHash, ...]:
    result = tuple(leaves)
    if not result:
        raise MerkleTreeError("a Merkle tree needs at least one leaf")
    for index, leaf in enumerate(result):
        if not isinstance(leaf, SecureHash):
            raise MerkleTreeError(f"leaf {index} is a {type(leaf).__name__}, not a SecureHash")
    return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class MerkleTree:
    """A Merkle tree kept in full so that proofs for any leaves can be cut from it.

    Only the nodes that cover at least one real leaf are stored; padding subtrees are implied.
    """

    __slots__ = ("_leaves", "_levels")

    def __init__(self, leaves: Sequence[SecureHash]) -> None:
        self._leaves = _checked_leaves(leaves)
        level = [leaf_node(value) for value in self._leaves]
        levels = [level]
        height = 0
        while len(level) > 1:
            level = _parent_level(level, height)
            levels.append(level)
            height += 1
        self._levels: tuple[tuple[SecureHash, ...], ...] = tuple(tuple(nodes) for nodes in levels)

    @property
    def root(self) -> SecureHash:
        return self._levels[-1][0]

    @property
    def leaves(self) -> tuple[SecureHash, ...]:
        """The leaf values as given, without padding."""
        return self._leaves

    def prove(self, indices: Iterable[int]) -> MerkleProof:
        """A proof revealing the leaves at `indices` (any order, repeats ignored)."""
        leaf_count = len(self.leaves)
        wanted: set[int] = set()
        for index in indices:
            if not _is_int(index) or not 0 <= index < leaf_count:
                raise MerkleTreeError(
                    f"leaf index {index!r} is outside a tree of {leaf_count} leaves"
                )
            wanted.add(index)
        if not wanted:
            raise MerkleTreeError("a proof must reveal at least one leaf")
        known = sorted(wanted)
        hashes: list[SecureHash] = []
        for level, nodes in enumerate(self._levels[:-1]):
            parents: list[int] = []
            i = 0
            while i < len(known):
                position = known[i]
                if position % 2 == 0 and i + 1 < len(known) and known[i + 1] == position + 1:
                    i += 2
                else:
                    sibling = position ^ 1
                    if not _is_padding(sibling, level, leaf_count):
                        hashes.append(nodes[sibling])
                    i += 1
                parents.append(position >> 1)
            known = parents
        return MerkleProof(leaf_count, tuple(sorted(wanted)), tuple(hashes))

    def __repr__(self) -> str:
        return f"MerkleTree(leaves={len(self.leaves)}, root={self.root.prefix()})"


def merkle_root(leaves: Sequence[SecureHash]) -> SecureHash:
    """The root of the tree over `leaves`, without keeping the tree."""
    level = [leaf_node(value) for value in _checked_leaves(leaves)]
    height = 0
    while len(level) > 1:
        level = _parent_level(level, height)
        height += 1
    return level[0]


class MerkleProof:
    """Some leaves' positions in a tree of `leaf_count` leaves, and the sibling hashes to its root.

    `hashes` is ordered level by level from the leaves up, left to right within a level: the
    order in which the verifier consumes them, so one set of leaves has exactly one proof.
    """

    __slots__ = ("_hashes", "_indices", "_leaf_count")

    def __init__(
        self, leaf_count: int, indices: Sequence[int], hashes: Sequence[SecureHash]
    ) -> None:
        if not _is_int(leaf_count) or leaf_count < 1:
            raise MerkleProofError(f"leaf_count must be a positive integer, got {leaf_count!r}")
        indices = tuple(indices)
        if not indices:
            raise MerkleProofError("a proof must reveal at least one leaf")
        for index in indices:
            if not _is_int(index) or not 0 <= index < leaf_count:
                raise MerkleProofError(
                    f"leaf index {index!r} is outside a tree of {leaf_count} leaves"
                )
        if any(a >= b for a, b in pairwise(indices)):
            raise MerkleProofError(f"indices must be sorted and unique, got {indices}")
        hashes = tuple(hashes)
        for position, node in enumerate(hashes):
            if not isinstance(node, SecureHash):
                raise MerkleProofError(
                    f"proof hash {position} is a {type(node).__name__}, not a SecureHash"
                )
        self._leaf_count = leaf_count
        self._indices: tuple[int, ...] = indices
        self._hashes: tuple[SecureHash, ...] = hashes

    @property
    def leaf_count(self) -> int:
        """The number of real leaves in the tree, before padding."""
        return self._leaf_count

    @property
    def indices(self) -> tuple[int, ...]:
        return self._indices

    @property
    def hashes(self) -> tuple[SecureHash, ...]:
        return self._hashes

    def _check_leaves(self, leaves: Mapping[int, SecureHash]) -> None:
        if set(leaves) != set(self._indices):
            raise MerkleProofError(
                f"the proof reveals leaves {list(self._indices)}, "
                f"but leaves {sorted(leaves, key=repr)} were supplied"
            )
        for index in self._indices:
            if not isinstance(leaves[index], SecureHash):
                raise MerkleProofError(
                    f"leaf {index} is a {type(leaves[index]).__name__}, not a SecureHash"
                )

    def _fold(self, leaves: Mapping[int, SecureHash]) -> SecureHash:
        """Hash the revealed leaves up to the root, consuming `hashes` in order."""
        leaf_count = self._leaf_count
        nodes = [(index, leaf_node(leaves[index])) for index in self._indices]
        supplied = iter(self._hashes)
        for level in range(_depth(leaf_count)):
            parents: list[tuple[int, SecureHash]] = []
            i = 0
            while i < len(nodes):
                position, node = nodes[i]
                if position % 2 == 0 and i + 1 < len(nodes) and nodes[i + 1][0] == position + 1:
                    parents.append((position >> 1, inner_node(node, nodes[i + 1][1])))
                    i += 2
                    continue
                sibling_position = position ^ 1
                if _is_padding(sibling_position, level, leaf_count):
                    sibling = _zero_hash(level)
                else:
                    sibling = next(supplied, None)
                    if sibling is None:
                        raise MerkleProofError(
                            f"the proof has too few hashes ({len(self._hashes)}) "
                            f"for leaves {list(self._indices)} of {leaf_count}"
                        )
                if position % 2 == 0:
                    parents.append((position >> 1, inner_node(node, sibling)))
                else:
                    parents.append((position >> 1, inner_node(sibling, node)))
                i += 1
            nodes = parents
        if next(supplied, None) is not None:
            raise MerkleProofError(
                f"the proof has more hashes ({len(self._hashes)}) than leaves "
                f"{list(self._indices)} of {leaf_count} need"
            )
        return nodes[0][1]

    def compute_root(self, leaves: Mapping[int, SecureHash]) -> SecureHash:
        """The root these leaves and this proof imply; the caller compares it with a trusted one.

        Raises `MerkleProofError` unless `leaves` has exactly the proof's indices and the proof
        has exactly the hashes they need.
        """
        self._check_leaves(leaves)
        return self._fold(leaves)

    def verify(self, root: SecureHash, leaves: Mapping[int, SecureHash]) -> bool:
        """Whether `leaves` sit at `indices` in a tree with `root`.

        A malformed proof is just false; leaves other than the proof's indices are the caller's
        mistake and raise `MerkleProofError`.
        """
        self._check_leaves(leaves)
        try:
            return self._fold(leaves) == root
        except MerkleProofError:
            return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleProof):
            return NotImplemented
        return (
            self._leaf_count == other._leaf_count
            and self._indices == other._indices
            and self._hashes == other._hashes
        )

    def __hash__(self) -> int:
        return hash((self._leaf_count, self._indices, self._hashes))

    def __repr__(self) -> str:
        hashes = ", ".join(node.prefix() for node in self._hashes)
        return (
            f"MerkleProof(leaf_count={self._leaf_count}, indices={self._indices}, "
            f"hashes=[{hashes}])"
        )


def _proof_fields(proof: MerkleProof) -> dict[str, Any]:
    return {
        "leaf_count": proof.leaf_count,
        "indices": list(proof.indices),
        "hashes": list(proof.hashes),
    }


def _proof_from_fields(fields: dict[str, Any]) -> MerkleProof:
    leaf_count, indices, hashes = fields["leaf_count"], fields["indices"], fields["hashes"]
    if not _is_int(leaf_count):
        raise ValueError("MerkleProof.leaf_count must be an integer")
    if not isinstance(indices, list) or not all(_is_int(index) for index in indices):
        raise ValueError("MerkleProof.indices must be a list of integers")
    if not isinstance(hashes, list) or not all(isinstance(h, SecureHash) for h in hashes):
        raise ValueError("MerkleProof.hashes must be a list of SecureHash")
    return MerkleProof(leaf_count, indices, hashes)


register_codec(
    "MerkleProof",
    MerkleProof,
    ["leaf_count", "indices", "hashes"],
    _proof_fields,
    _proof_from_fields,
)
