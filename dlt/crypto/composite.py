"""Composite (threshold) keys, as in Corda: "any 2 of these 3", nested as deep as needed.

A `CompositeKey` is a tree whose leaves are single keys and whose nodes each hold a threshold and
weighted children. A node is fulfilled when the weights of its fulfilled children add up to the
threshold. Such a key never signs anything itself: its leaf keys sign, and `is_fulfilled_by`
says whether the set of keys that signed is enough.

Children are kept sorted by their canonical encoding, so the same tree built in any order is the
same key, with the same encoding and fingerprint. A node with a single child is never built: it
would mean exactly what the child means, so `CompositeKey.build` returns the child instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from functools import cached_property
from itertools import pairwise
from typing import Any

from dlt.crypto.errors import InvalidKeyError, InvalidSignatureError
from dlt.crypto.keys import PublicKey, SingleKey
from dlt.encoding import register_codec

MAX_LEAVES = 1024
"""Most leaves a composite key may have, counting a key once for every place it appears."""

MAX_DEPTH = 16
"""Most levels of composite keys nested in one another; a composite of single keys has depth 1."""


class CompositeKeyError(InvalidKeyError):
    """A composite key that is malformed, ambiguous or too large."""


ChildSpec = PublicKey | tuple[PublicKey, int]


def _shape(key: PublicKey) -> tuple[int, int]:
    """(depth, number of leaves) of `key`, counting a non-composite key as one leaf."""
    if isinstance(key, CompositeKey):
        return key._depth, key._leaf_count
    return 0, 1


def _check_child(key: object, weight: object, position: int) -> tuple[PublicKey, int]:
    if not isinstance(key, PublicKey):
        raise CompositeKeyError(
            f"child {position} is a {type(key).__name__}, not a PublicKey "
            "or a (PublicKey, weight) pair"
        )
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise CompositeKeyError(
            f"child {position} ({key!r}) has weight {weight!r}; weights are integers of at least 1"
        )
    return key, weight


def _check_threshold(threshold: object, total_weight: int) -> int:
    if (
        not isinstance(threshold, int)
        or isinstance(threshold, bool)
        or not 1 <= threshold <= total_weight
    ):
        raise CompositeKeyError(
            f"threshold {threshold!r} is out of range: it must be an integer from 1 "
            f"to the total weight of the children, {total_weight}"
        )
    return threshold


class CompositeKey(PublicKey):
    """A threshold over weighted child keys, each a single key or a composite key itself.

    The constructor takes the canonical form only (children sorted by encoding, at least two of
    them), which is what decoding needs; code that assembles a key wants `build`.
    """

    def __init__(self, threshold: int, children: Iterable[tuple[PublicKey, int]]) -> None:
        pairs = tuple(children)
        checked = tuple(
            _check_child(*_as_pair(child, position), position)
            for position, child in enumerate(pairs)
        )
        if len(checked) < 2:
            raise CompositeKeyError(
                f"a composite key needs at least two children, got {len(checked)}; "
                "a single child is that key itself, which CompositeKey.build returns"
            )
        for (previous, _), (current, _) in pairwise(checked):
            if previous.encoded == current.encoded:
                raise CompositeKeyError(f"child key {current!r} appears more than once")
            if previous.encoded > current.encoded:
                raise CompositeKeyError(
                    "children must be sorted by their encoding; use CompositeKey.build "
                    "to build a key from children in any order"
                )
        total_weight = sum(weight for _, weight in checked)
        self._threshold = _check_threshold(threshold, total_weight)
        shapes = [_shape(key) for key, _ in checked]
        depth = 1 + max(child_depth for child_depth, _ in shapes)
        leaf_count = sum(count for _, count in shapes)
        if depth > MAX_DEPTH:
            raise CompositeKeyError(
                f"composite keys may nest at most {MAX_DEPTH} levels deep, this one has {depth}"
            )
        if leaf_count > MAX_LEAVES:
            raise CompositeKeyError(
                f"a composite key may have at most {MAX_LEAVES} leaves (a key counts once for "
                f"every place it appears), this one has {leaf_count}"
            )
        self._children = checked
        self._total_weight = total_weight
        self._depth = depth
        self._leaf_count = leaf_count

    @classmethod
    def build(cls, children: Sequence[ChildSpec], threshold: int | None = None) -> PublicKey:
        """The key fulfilled when the weights of fulfilled `children` reach `threshold`.

        A bare key has weight 1; `threshold` defaults to the total weight (everyone must sign).
        One child that alone reaches the threshold is returned as it is, so the result is not
        always a `CompositeKey`.
        """
        if isinstance(children, PublicKey) or not isinstance(children, Sequence):
            raise CompositeKeyError("children must be a sequence of keys or (key, weight) pairs")
        if not children:
            raise CompositeKeyError("a composite key needs at least one child key")
        checked = [
            _check_child(*_as_pair(child, position), position)
            for position, child in enumerate(children)
        ]
        seen: set[PublicKey] = set()
        for key, _ in checked:
            if key in seen:
                raise CompositeKeyError(
                    f"child key {key!r} appears more than once; give it a larger weight instead"
                )
            seen.add(key)
        total_weight = sum(weight for _, weight in checked)
        resolved = _check_threshold(total_weight if threshold is None else threshold, total_weight)
        if len(checked) == 1:
            return checked[0][0]
        return cls(resolved, sorted(checked, key=lambda pair: pair[0].encoded))

    @property
    def threshold(self) -> int:
        return self._threshold

    @property
    def children(self) -> tuple[tuple[PublicKey, int], ...]:
        """(key, weight) pairs in canonical order."""
        return self._children

    @property
    def total_weight(self) -> int:
        return self._total_weight

    @cached_property
    def leaf_keys(self) -> frozenset[PublicKey]:
        return frozenset(leaf for key, _ in self._children for leaf in key.leaf_keys)

    def is_fulfilled_by(self, keys: Iterable[PublicKey]) -> bool:
        """Whether signatures by `keys` reach the threshold, level by level.

        Only leaf keys sign: a composite key among `keys` fulfils nothing, not even itself.
        """
        return self._fulfilled_by(frozenset(keys))

    def _fulfilled_by(self, signers: Set[PublicKey]) -> bool:
        weight = 0
        for key, key_weight in self._children:
            if isinstance(key, CompositeKey):
                fulfilled = key._fulfilled_by(signers)
            elif isinstance(key, SingleKey):
                fulfilled = key in signers
            else:
                fulfilled = key.is_fulfilled_by(signers)
            if fulfilled:
                weight += key_weight
                if weight >= self._threshold:
                    return True
        return False

    def verify(self, signature: bytes, data: bytes) -> None:
        raise InvalidSignatureError(
            "a composite key never signs anything itself: check each leaf key's signature, "
            "then whether the keys that signed fulfil it with is_fulfilled_by"
        )

    def __repr__(self) -> str:
        return (
            f"CompositeKey({self._threshold} of {self._total_weight}, "
            f"{len(self._children)} children, {self.fingerprint.prefix(12)})"
        )


def _as_pair(child: object, position: int) -> tuple[object, object]:
    if isinstance(child, PublicKey):
        return child, 1
    if isinstance(child, tuple) and len(child) == 2:
        return child[0], child[1]
    raise CompositeKeyError(
        f"child {position} is a {type(child).__name__}, not a PublicKey "
        "or a (PublicKey, weight) pair"
    )


def _composite_fields(key: CompositeKey) -> dict[str, Any]:
    return {
        "threshold": key.threshold,
        "children": [{"key": child, "weight": weight} for child, weight in key.children],
    }


def _composite_from_fields(fields: dict[str, Any]) -> CompositeKey:
    """Accept the canonical form only, so each composite key has exactly one encoding."""
    children = fields["children"]
    if not isinstance(children, list):
        raise ValueError("a composite key's children must be a list")
    pairs: list[tuple[PublicKey, int]] = []
    for position, child in enumerate(children):
        if not isinstance(child, dict) or set(child) != {"key", "weight"}:
            raise ValueError(f"child {position} must be a map with exactly key and weight")
        pairs.append((child["key"], child["weight"]))
    return CompositeKey(fields["threshold"], pairs)


register_codec(
    "PublicKey.Composite",
    CompositeKey,
    ["threshold", "children"],
    _composite_fields,
    _composite_from_fields,
)
