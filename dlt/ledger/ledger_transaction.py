"""LedgerTransaction: a transaction with its inputs, references and attachments resolved.

This is what contracts see, and where the platform's own rules are checked: one notary, the
encumbrance rules, contract constraints and the contract code each state pins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from dlt.crypto import SecureHash
from dlt.encoding import EncodingError, type_name_of
from dlt.identity import Party
from dlt.ledger.attachments import Attachment
from dlt.ledger.commands import CommandData, CommandWithParties
from dlt.ledger.contracts import (
    ContractViolation,
    UnknownContractError,
    contract_code_id,
    installed_contract,
)
from dlt.ledger.errors import (
    ConstraintError,
    ContractBindingError,
    ContractCodeMismatchError,
    ContractRejectedError,
    EncumbranceError,
    NotaryMismatchError,
)
from dlt.ledger.network_parameters import NetworkParameters
from dlt.ledger.notary_change import is_notary_change, verify_notary_change
from dlt.ledger.states import ContractState, StateAndRef, TransactionState
from dlt.ledger.time_window import TimeWindow

S = TypeVar("S", bound=ContractState)
C = TypeVar("C", bound=CommandData)


@dataclass(frozen=True)
class LedgerTransaction:
    id: SecureHash
    inputs: tuple[StateAndRef, ...]
    outputs: tuple[TransactionState, ...]
    commands: tuple[CommandWithParties, ...]
    attachments: tuple[Attachment, ...]
    notary: Party | None
    time_window: TimeWindow | None
    references: tuple[StateAndRef, ...] = ()
    network_parameters_hash: SecureHash | None = None
    network_parameters: NetworkParameters | None = None
    """The parameters the transaction pins, resolved: what contracts read the network's
    trusted keys from. None when it pins none."""
    _attachments_by_id: dict[SecureHash, Attachment] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_attachments_by_id", {a.id: a for a in self.attachments})

    # -- what contracts read --------------------------------------------------------------

    @property
    def input_states(self) -> tuple[ContractState, ...]:
        return tuple(sar.state.data for sar in self.inputs)

    @property
    def output_states(self) -> tuple[ContractState, ...]:
        return tuple(state.data for state in self.outputs)

    @property
    def reference_states(self) -> tuple[ContractState, ...]:
        return tuple(sar.state.data for sar in self.references)

    def inputs_of_type(self, kind: type[S]) -> list[S]:
        return [state for state in self.input_states if isinstance(state, kind)]

    def outputs_of_type(self, kind: type[S]) -> list[S]:
        return [state for state in self.output_states if isinstance(state, kind)]

    def references_of_type(self, kind: type[S]) -> list[S]:
        return [state for state in self.reference_states if isinstance(state, kind)]

    def commands_of_type(self, kind: type[C]) -> list[CommandWithParties]:
        return [command for command in self.commands if isinstance(command.value, kind)]

    def attachment(self, attachment_id: SecureHash) -> Attachment:
        try:
            return self._attachments_by_id[attachment_id]
        except KeyError:
            raise ContractViolation(
                f"the transaction does not carry attachment {attachment_id}"
            ) from None

    # -- platform rules -------------------------------------------------------------------

    def verify(self) -> None:
        """Check the platform rules, then run every involved contract's `verify`."""
        self._check_contract_binding()
        if is_notary_change(self):
            self._check_input_notaries()
            verify_notary_change(self)
            return
        self._check_notary()
        self._check_encumbrances()
        contracts = self._contract_names()
        code = self._check_contract_code(contracts)
        self._check_constraints(code)
        for name in sorted(contracts):
            self._run_contract(name)

    def _all_states(self) -> Iterator[tuple[str, TransactionState]]:
        for sar in self.inputs:
            yield f"input {sar.ref}", sar.state
        for index, state in enumerate(self.outputs):
            yield f"output {index}", state

    def _check_contract_binding(self) -> None:
        """Every state, references included, is labelled with the contract its type belongs
        to, so no contract can be bypassed by naming a more lenient one."""
        labelled = [
            *self._all_states(),
            *((f"reference {s.ref}", s.state) for s in self.references),
        ]
        for label, state in labelled:
            problem = contract_binding_problem(state)
            if problem is not None:
                raise ContractBindingError(self.id, f"{label} {problem}")

    def _contract_names(self) -> set[str]:
        return {state.contract for _, state in self._all_states()}

    def _check_input_notaries(self) -> None:
        for sar in self.inputs:
            if sar.state.notary != self.notary:
                raise NotaryMismatchError(
                    self.id,
                    f"input {sar.ref} is under notary {sar.state.notary}, the transaction "
                    f"under {self.notary}",
                )

    def _check_notary(self) -> None:
        for label, sar in [("input", s) for s in self.inputs] + [
            ("reference", s) for s in self.references
        ]:
            if sar.state.notary != self.notary:
                raise NotaryMismatchError(
                    self.id,
                    f"{label} {sar.ref} is under notary {sar.state.notary}, the transaction "
                    f"under {self.notary}; move it first with NotaryChangeFlow",
                )
        for index, state in enumerate(self.outputs):
            if self.notary is not None and state.notary != self.notary:
                raise NotaryMismatchError(
                    self.id,
                    f"output {index} names notary {state.notary} but the transaction is "
                    f"notarised by {self.notary}",
                )

    def _check_encumbrances(self) -> None:
        spent = {sar.ref for sar in self.inputs}
        for sar in self.inputs:
            encumbrance = sar.state.encumbrance
            if encumbrance is None:
                continue
            needed = sar.ref.model_copy(update={"index": encumbrance})
            if needed not in spent:
                raise EncumbranceError(
                    self.id,
                    f"input {sar.ref} is encumbered by {needed}, which must be spent with it",
                )
        for index, state in enumerate(self.outputs):
            encumbrance = state.encumbrance
            if encumbrance is None:
                continue
            if encumbrance == index or encumbrance >= len(self.outputs):
                raise EncumbranceError(
                    self.id,
                    f"output {index} is encumbered by output {encumbrance}, which "
                    f"{'is itself' if encumbrance == index else 'does not exist'}",
                )
            if self.outputs[encumbrance].encumbrance is None:
                raise EncumbranceError(
                    self.id,
                    f"output {index} is encumbered by output {encumbrance}, which must in turn "
                    "be encumbered so the chain closes and both are always spent together",
                )

    def _check_contract_code(self, contracts: set[str]) -> dict[str, Attachment]:
        code: dict[str, Attachment] = {}
        for name in sorted(contracts):
            try:
                installed_id = contract_code_id(name)
            except UnknownContractError as exc:
                raise ContractRejectedError(self.id, name, str(exc)) from exc
            attachment = self._attachments_by_id.get(installed_id)
            if attachment is None:
                raise ContractCodeMismatchError(
                    self.id,
                    f"it does not carry the code of contract {name} installed here "
                    f"({installed_id.prefix(12)}); the parties run different CorDapp versions",
                )
            code[name] = attachment
        return code

    def _check_constraints(self, code: dict[str, Attachment]) -> None:
        for label, state in self._all_states():
            if not state.constraint.is_satisfied_by(code[state.contract]):
                raise ConstraintError(
                    self.id,
                    f"{label} ({state.contract}) has a {type(state.constraint).__name__} that "
                    f"does not accept contract code {code[state.contract].id.prefix(12)}",
                )

    def _run_contract(self, name: str) -> None:
        try:
            installed_contract(name)().verify(self)
        except ContractViolation as exc:
            raise ContractRejectedError(self.id, name, str(exc)) from exc
        except Exception as exc:
            raise ContractRejectedError(
                self.id, name, f"contract code failed with {type(exc).__name__}: {exc}"
            ) from exc


def contract_binding_problem(state: TransactionState) -> str | None:
    """Why `state` is not labelled with the contract its type belongs to, or None if it is."""
    kind = type(state.data)
    try:
        type_name = type_name_of(kind)
    except EncodingError:
        type_name = kind.__qualname__
    declared = kind.contract_name
    if declared is None:
        return (
            f"is a {type_name}, whose type declares no contract; a state type must name the "
            "contract it belongs to (contract_name)"
        )
    if state.contract != declared:
        return (
            f"is a {type_name} labelled with contract {state.contract}, but {type_name} "
            f"belongs to contract {declared}; a state is verified only by its own contract"
        )
    return None
