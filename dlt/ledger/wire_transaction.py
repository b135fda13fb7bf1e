"""WireTransaction: a transaction as it is hashed, signed and sent.

It holds each component as the exact bytes that were hashed, so the id never depends on
re-encoding. Typed views decode those bytes on demand, accepting registered types only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

from pydantic import ValidationError

from dlt.crypto import PublicKey, SecureHash
from dlt.crypto.merkle import merkle_root
from dlt.encoding import DecodingError, decode, encode, register_codec
from dlt.identity import Party
from dlt.ledger.commands import Command, CommandData
from dlt.ledger.components import (
    ComponentGroup,
    check_privacy_salt,
    component_leaf,
    component_nonce,
)
from dlt.ledger.errors import MalformedTransactionError
from dlt.ledger.states import StateRef, TransactionState
from dlt.ledger.time_window import TimeWindow

T = TypeVar("T")

_SINGLETON_GROUPS = (
    ComponentGroup.NOTARY,
    ComponentGroup.TIMEWINDOW,
    ComponentGroup.PARAMETERS_HASH,
)


def _group_root(salt: bytes, group: ComponentGroup, components: Sequence[bytes]) -> SecureHash:
    if not components:
        return SecureHash.ZERO
    return merkle_root(
        [
            component_leaf(component_nonce(salt, group, index), component)
            for index, component in enumerate(components)
        ]
    )


def check_distinct_states(inputs: Sequence[StateRef], references: Sequence[StateRef]) -> None:
    """Each state at most once, as an input or as a reference: raises MalformedTransactionError.
    A notary checks this too, since it sees only the parts a requester chose to show."""
    spent = set(inputs)
    if len(spent) != len(inputs):
        raise MalformedTransactionError("a transaction lists the same input twice")
    if spent.intersection(references):
        raise MalformedTransactionError("a state cannot be both an input and a reference")
    if len(set(references)) != len(references):
        raise MalformedTransactionError("a transaction lists the same reference twice")


class WireTransaction:
    """An immutable transaction: component bytes per group plus the privacy salt."""

    def __init__(
        self, groups: Mapping[ComponentGroup, Sequence[bytes]], privacy_salt: bytes
    ) -> None:
        self._salt = check_privacy_salt(privacy_salt)
        self._groups: dict[ComponentGroup, tuple[bytes, ...]] = {
            group: tuple(bytes(c) for c in groups.get(group, ())) for group in ComponentGroup
        }
        self._check_shape()

    @classmethod
    def create(
        cls,
        *,
        inputs: Sequence[StateRef] = (),
        outputs: Sequence[TransactionState] = (),
        commands: Sequence[Command] = (),
        attachments: Sequence[SecureHash] = (),
        notary: Party | None = None,
        time_window: TimeWindow | None = None,
        references: Sequence[StateRef] = (),
        network_parameters_hash: SecureHash | None = None,
        privacy_salt: bytes,
    ) -> WireTransaction:
        """Encode typed parts into component groups."""
        optional = {
            ComponentGroup.NOTARY: notary,
            ComponentGroup.TIMEWINDOW: time_window,
            ComponentGroup.PARAMETERS_HASH: network_parameters_hash,
        }
        groups: dict[ComponentGroup, list[bytes]] = {
            ComponentGroup.INPUTS: [encode(ref) for ref in inputs],
            ComponentGroup.OUTPUTS: [encode(state) for state in outputs],
            ComponentGroup.COMMANDS: [encode(command.value) for command in commands],
            ComponentGroup.SIGNERS: [encode(list(command.signers)) for command in commands],
            ComponentGroup.ATTACHMENTS: [encode(att) for att in attachments],
            ComponentGroup.REFERENCES: [encode(ref) for ref in references],
        }
        for group, value in optional.items():
            groups[group] = [] if value is None else [encode(value)]
        return cls(groups, privacy_salt)

    # -- identity -------------------------------------------------------------------------

    @property
    def privacy_salt(self) -> bytes:
        return self._salt

    def components(self, group: ComponentGroup) -> tuple[bytes, ...]:
        return self._groups[group]

    @cached_property
    def group_roots(self) -> tuple[SecureHash, ...]:
        """The Merkle root of every group, in group order; ZERO for an empty group."""
        return tuple(
            _group_root(self._salt, group, self._groups[group]) for group in ComponentGroup
        )

    @cached_property
    def id(self) -> SecureHash:
        """The Merkle root of the group roots: what every signature is over."""
        return merkle_root(self.group_roots)

    # -- typed views ----------------------------------------------------------------------

    def _decoded(self, group: ComponentGroup, kind: type[T]) -> tuple[T, ...]:
        try:
            return tuple(decode(component, kind) for component in self._groups[group])
        except DecodingError as exc:
            raise MalformedTransactionError(
                f"component group {group.name} does not hold {kind.__name__} values: {exc}"
            ) from exc

    def _single(self, group: ComponentGroup, kind: type[T]) -> T | None:
        values = self._decoded(group, kind)
        return values[0] if values else None

    @cached_property
    def inputs(self) -> tuple[StateRef, ...]:
        return self._decoded(ComponentGroup.INPUTS, StateRef)

    @cached_property
    def outputs(self) -> tuple[TransactionState, ...]:
        return self._decoded(ComponentGroup.OUTPUTS, TransactionState)

    @cached_property
    def commands(self) -> tuple[Command, ...]:
        values = self._decoded(ComponentGroup.COMMANDS, CommandData)
        signers = self._decoded(ComponentGroup.SIGNERS, list)
        try:
            return tuple(
                Command(value=value, signers=tuple(keys))
                for value, keys in zip(values, signers, strict=True)
            )
        except ValidationError as exc:
            raise MalformedTransactionError(f"a command's signers are not keys: {exc}") from exc

    @cached_property
    def attachments(self) -> tuple[SecureHash, ...]:
        return self._decoded(ComponentGroup.ATTACHMENTS, SecureHash)

    @cached_property
    def notary(self) -> Party | None:
        return self._single(ComponentGroup.NOTARY, Party)

    @cached_property
    def time_window(self) -> TimeWindow | None:
        return self._single(ComponentGroup.TIMEWINDOW, TimeWindow)

    @cached_property
    def references(self) -> tuple[StateRef, ...]:
        return self._decoded(ComponentGroup.REFERENCES, StateRef)

    @cached_property
    def network_parameters_hash(self) -> SecureHash | None:
        return self._single(ComponentGroup.PARAMETERS_HASH, SecureHash)

    @cached_property
    def required_signing_keys(self) -> frozenset[PublicKey]:
        """Every command's signers, plus the notary when it must stamp the transaction."""
        keys = {key for command in self.commands for key in command.signers}
        if self.notary is not None and (self.inputs or self.references or self.time_window):
            keys.add(self.notary.owning_key)
        return frozenset(keys)

    # -- checks ---------------------------------------------------------------------------

    def _check_shape(self) -> None:
        for group in _SINGLETON_GROUPS:
            if len(self._groups[group]) > 1:
                raise MalformedTransactionError(f"a transaction has at most one {group.name}")
        commands = self._groups[ComponentGroup.COMMANDS]
        if len(commands) != len(self._groups[ComponentGroup.SIGNERS]):
            raise MalformedTransactionError("every command needs exactly one list of signers")
        if not commands:
            raise MalformedTransactionError("a transaction needs at least one command")
        if not self._groups[ComponentGroup.INPUTS] and not self._groups[ComponentGroup.OUTPUTS]:
            raise MalformedTransactionError("a transaction needs inputs or outputs")
        self.commands  # noqa: B018 - decoding checks every command has signing keys
        time_window = self.time_window
        needs_notary = self.inputs or self.references or time_window is not None
        if needs_notary and self.notary is None:
            raise MalformedTransactionError(
                "a transaction with inputs, references or a time window must name a notary"
            )
        check_distinct_states(self.inputs, self.references)
        self.outputs  # noqa: B018 - decoding checks every output is a registered state
        self.attachments  # noqa: B018
        self.network_parameters_hash  # noqa: B018

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WireTransaction) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"WireTransaction({self.id.prefix(12)})"


def _to_fields(tx: WireTransaction) -> dict[str, Any]:
    return {
        "salt": tx.privacy_salt,
        "groups": [list(tx.components(group)) for group in ComponentGroup],
    }


def _from_fields(fields: dict[str, Any]) -> WireTransaction:
    groups = fields["groups"]
    if not isinstance(groups, list):
        raise ValueError("malformed WireTransaction encoding")
    if len(groups) != len(ComponentGroup):
        raise ValueError(f"a WireTransaction has {len(ComponentGroup)} component groups")
    parsed: dict[ComponentGroup, list[bytes]] = {}
    for group, components in zip(ComponentGroup, groups, strict=True):
        if not isinstance(components, list) or not all(isinstance(c, bytes) for c in components):
            raise ValueError(f"component group {group.name} must be a list of byte strings")
        parsed[group] = components
    try:
        return WireTransaction(parsed, fields["salt"])
    except MalformedTransactionError as exc:
        raise ValueError(str(exc)) from exc


register_codec("WireTransaction", WireTransaction, ["salt", "groups"], _to_fields, _from_fields)
