"""FilteredTransaction: chosen components of a transaction, provably part of its id.

A non-validating notary, or an oracle, sees only what it needs. It still learns every group's
root, so it can check the id; `check_complete` proves a group has no hidden components.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from dlt.crypto import SecureHash
from dlt.crypto.merkle import MerkleProof, MerkleTree, merkle_root
from dlt.encoding import DecodingError, decode, register_codec
from dlt.identity import Party
from dlt.ledger.commands import CommandData
from dlt.ledger.components import ComponentGroup, component_leaf, component_nonce
from dlt.ledger.errors import ComponentVisibilityError, FilteredTransactionError
from dlt.ledger.states import StateRef, TransactionState
from dlt.ledger.time_window import TimeWindow
from dlt.ledger.wire_transaction import WireTransaction

T = TypeVar("T")

GROUP_TYPES: dict[ComponentGroup, type] = {
    ComponentGroup.INPUTS: StateRef,
    ComponentGroup.OUTPUTS: TransactionState,
    ComponentGroup.COMMANDS: CommandData,
    ComponentGroup.ATTACHMENTS: SecureHash,
    ComponentGroup.NOTARY: Party,
    ComponentGroup.TIMEWINDOW: TimeWindow,
    ComponentGroup.SIGNERS: list,
    ComponentGroup.REFERENCES: StateRef,
    ComponentGroup.PARAMETERS_HASH: SecureHash,
}

Reveal = Callable[[ComponentGroup, Any], bool]
"""Decides per (group, decoded component) whether a filtered transaction shows it."""


@dataclass(frozen=True)
class FilteredGroup:
    """The revealed components of one group, with their nonces and a proof to the group root."""

    group: ComponentGroup
    components: tuple[bytes, ...]
    nonces: tuple[SecureHash, ...]
    proof: MerkleProof

    def leaves(self) -> dict[int, SecureHash]:
        if not (len(self.components) == len(self.nonces) == len(self.proof.indices)):
            raise FilteredTransactionError(
                f"group {self.group.name}: components, nonces and proof do not line up"
            )
        return {
            index: component_leaf(nonce, component)
            for index, nonce, component in zip(
                self.proof.indices, self.nonces, self.components, strict=True
            )
        }


class FilteredTransaction:
    def __init__(
        self, tx_id: SecureHash, group_roots: Sequence[SecureHash], groups: Sequence[FilteredGroup]
    ) -> None:
        self._id = tx_id
        self._group_roots = tuple(group_roots)
        self._groups = {group.group: group for group in groups}
        if len(self._groups) != len(groups):
            raise FilteredTransactionError("a filtered transaction lists a group twice")

    @classmethod
    def build(cls, tx: WireTransaction, reveal: Reveal) -> FilteredTransaction:
        """Reveal the components for which `reveal(group, component)` is true."""
        groups = []
        for group in ComponentGroup:
            components = tx.components(group)
            chosen = [
                index
                for index, component in enumerate(components)
                if reveal(group, decode(component))
            ]
            if not chosen:
                continue
            nonces = [component_nonce(tx.privacy_salt, group, i) for i in range(len(components))]
            tree = MerkleTree(
                [component_leaf(n, c) for n, c in zip(nonces, components, strict=True)]
            )
            groups.append(
                FilteredGroup(
                    group=group,
                    components=tuple(components[i] for i in chosen),
                    nonces=tuple(nonces[i] for i in chosen),
                    proof=tree.prove(chosen),
                )
            )
        return cls(tx.id, tx.group_roots, groups)

    @property
    def id(self) -> SecureHash:
        return self._id

    @property
    def group_roots(self) -> tuple[SecureHash, ...]:
        return self._group_roots

    @property
    def groups(self) -> tuple[FilteredGroup, ...]:
        return tuple(self._groups.values())

    def verify(self) -> None:
        """Check every revealed component is part of the transaction with this id.

        Each revealed component must also decode as its group's type. Soundness does not rest
        on that: the trees hash leaves and inner nodes in separate domains, so an inner node
        can never be passed off as a leaf; decoding refuses malformed components early.
        """
        if len(self._group_roots) != len(ComponentGroup):
            raise FilteredTransactionError(
                f"a filtered transaction carries {len(ComponentGroup)} group roots"
            )
        if merkle_root(self._group_roots) != self._id:
            raise FilteredTransactionError(f"group roots do not hash to transaction id {self._id}")
        for filtered in self._groups.values():
            root = self._group_roots[filtered.group]
            try:
                valid = filtered.proof.verify(root, filtered.leaves())
            except ValueError:
                valid = False
            if not valid:
                raise FilteredTransactionError(
                    f"transaction {self._id}: revealed {filtered.group.name} components "
                    "do not prove against the group root"
                )
            self.revealed(filtered.group, GROUP_TYPES[filtered.group])

    def check_complete(self, group: ComponentGroup) -> None:
        """Prove that no component of `group` is hidden (call after `verify`)."""
        root = self._group_roots[group]
        filtered = self._groups.get(group)
        if filtered is None:
            if root != SecureHash.ZERO:
                raise ComponentVisibilityError(
                    f"transaction {self._id}: group {group.name} has components that are hidden"
                )
            return
        leaves = filtered.leaves()
        if (
            sorted(leaves) != list(range(len(leaves)))
            or merkle_root([leaves[i] for i in range(len(leaves))]) != root
        ):
            raise ComponentVisibilityError(
                f"transaction {self._id}: group {group.name} is only partly revealed"
            )

    def revealed(self, group: ComponentGroup, kind: type[T]) -> tuple[T, ...]:
        """The decoded revealed components of `group`, in transaction order."""
        filtered = self._groups.get(group)
        if filtered is None:
            return ()
        try:
            return tuple(decode(component, kind) for component in filtered.components)
        except DecodingError as exc:
            raise FilteredTransactionError(f"group {group.name}: {exc}") from exc

    @property
    def inputs(self) -> tuple[StateRef, ...]:
        return self.revealed(ComponentGroup.INPUTS, StateRef)

    @property
    def references(self) -> tuple[StateRef, ...]:
        return self.revealed(ComponentGroup.REFERENCES, StateRef)

    @property
    def notary(self) -> Party | None:
        values = self.revealed(ComponentGroup.NOTARY, Party)
        return values[0] if values else None

    @property
    def time_window(self) -> TimeWindow | None:
        values = self.revealed(ComponentGroup.TIMEWINDOW, TimeWindow)
        return values[0] if values else None


def notary_view(tx: WireTransaction) -> FilteredTransaction:
    """What a non-validating notary sees: inputs, references, time window and notary."""
    shown = {
        ComponentGroup.INPUTS,
        ComponentGroup.REFERENCES,
        ComponentGroup.TIMEWINDOW,
        ComponentGroup.NOTARY,
    }
    return FilteredTransaction.build(tx, lambda group, _component: group in shown)


def _group_to_fields(group: FilteredGroup) -> dict[str, Any]:
    return {
        "group": int(group.group),
        "components": list(group.components),
        "nonces": list(group.nonces),
        "proof": group.proof,
    }


def _group_from_fields(fields: dict[str, Any]) -> FilteredGroup:
    return FilteredGroup(
        group=ComponentGroup(fields["group"]),
        components=tuple(_typed_list(fields["components"], bytes)),
        nonces=tuple(_typed_list(fields["nonces"], SecureHash)),
        proof=_typed(fields["proof"], MerkleProof),
    )


def _typed(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}")
    return value


def _typed_list(value: object, kind: type[T]) -> list[T]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return [_typed(item, kind) for item in value]


register_codec(
    "FilteredGroup",
    FilteredGroup,
    ["group", "components", "nonces", "proof"],
    _group_to_fields,
    _group_from_fields,
)
register_codec(
    "FilteredTransaction",
    FilteredTransaction,
    ["id", "roots", "groups"],
    lambda ftx: {"id": ftx.id, "roots": list(ftx.group_roots), "groups": list(ftx.groups)},
    lambda f: FilteredTransaction(
        _typed(f["id"], SecureHash),
        _typed_list(f["roots"], SecureHash),
        _typed_list(f["groups"], FilteredGroup),
    ),
)
