"""TransactionBuilder: assemble a transaction step by step, then freeze it for signing."""

from __future__ import annotations

from typing import Self

from dlt.crypto import PrivateKey, PublicKey, SecureHash
from dlt.identity import Party
from dlt.ledger.commands import Command, CommandData
from dlt.ledger.components import new_privacy_salt
from dlt.ledger.constraints import AttachmentConstraint, HashAttachmentConstraint
from dlt.ledger.contracts import contract_code_id
from dlt.ledger.errors import TransactionBuildError
from dlt.ledger.signed_transaction import SignedTransaction
from dlt.ledger.states import ContractState, StateAndRef, StateRef, TransactionState
from dlt.ledger.time_window import TimeWindow
from dlt.ledger.wire_transaction import WireTransaction


class TransactionBuilder:
    """Mutable, unlike everything it produces. Contract code attachments are added for you."""

    def __init__(self, notary: Party | None = None) -> None:
        self.notary = notary
        self._inputs: list[StateAndRef] = []
        self._references: list[StateAndRef] = []
        self._outputs: list[TransactionState] = []
        self._commands: list[Command] = []
        self._attachments: list[SecureHash] = []
        self._time_window: TimeWindow | None = None
        self._parameters_hash: SecureHash | None = None

    def add_input_state(self, state_and_ref: StateAndRef) -> Self:
        self._adopt_notary(state_and_ref.state.notary, f"input {state_and_ref.ref}")
        self._inputs.append(state_and_ref)
        return self

    def add_reference_state(self, state_and_ref: StateAndRef) -> Self:
        self._adopt_notary(state_and_ref.state.notary, f"reference {state_and_ref.ref}")
        self._references.append(state_and_ref)
        return self

    def add_output_state(
        self,
        state: ContractState,
        *,
        notary: Party | None = None,
        encumbrance: int | None = None,
        constraint: AttachmentConstraint | None = None,
    ) -> Self:
        """Add an output under the contract its type belongs to (its `contract_name`)."""
        contract = type(state).contract_name
        if contract is None:
            raise TransactionBuildError(
                f"{type(state).__name__} declares no contract; set contract_name on the state "
                "class to the contract it belongs to"
            )
        notary = notary or self.notary
        if notary is None:
            raise TransactionBuildError("set the builder's notary before adding outputs")
        self._outputs.append(
            TransactionState(
                data=state,
                contract=contract,
                notary=notary,
                encumbrance=encumbrance,
                constraint=constraint
                or HashAttachmentConstraint(attachment_id=contract_code_id(contract)),
            )
        )
        return self

    def add_command(self, value: CommandData, *signers: PublicKey) -> Self:
        if not signers:
            raise TransactionBuildError(f"command {type(value).__name__} needs at least one signer")
        self._commands.append(Command(value=value, signers=signers))
        return self

    def add_attachment(self, attachment_id: SecureHash) -> Self:
        if attachment_id not in self._attachments:
            self._attachments.append(attachment_id)
        return self

    def set_time_window(self, time_window: TimeWindow) -> Self:
        self._time_window = time_window
        return self

    def set_network_parameters_hash(self, parameters_hash: SecureHash) -> Self:
        self._parameters_hash = parameters_hash
        return self

    @property
    def network_parameters_hash(self) -> SecureHash | None:
        return self._parameters_hash

    @property
    def input_refs(self) -> list[StateRef]:
        return [sar.ref for sar in self._inputs]

    @property
    def outputs(self) -> list[TransactionState]:
        return list(self._outputs)

    @property
    def commands(self) -> list[Command]:
        return list(self._commands)

    def _adopt_notary(self, notary: Party, what: str) -> None:
        if self.notary is None:
            self.notary = notary
        elif self.notary != notary:
            raise TransactionBuildError(
                f"{what} is under notary {notary} but this transaction uses {self.notary}; "
                "change the state's notary first"
            )

    def _code_attachments(self) -> list[SecureHash]:
        contracts = {sar.state.contract for sar in self._inputs}
        contracts |= {state.contract for state in self._outputs}
        return [contract_code_id(name) for name in sorted(contracts)]

    def to_wire_transaction(self, privacy_salt: bytes | None = None) -> WireTransaction:
        """Freeze the builder. Flows pass a salt from the flow's randomness so replays agree."""
        attachments = list(self._attachments)
        for code_id in self._code_attachments():
            if code_id not in attachments:
                attachments.append(code_id)
        return WireTransaction.create(
            inputs=self.input_refs,
            outputs=self._outputs,
            commands=self._commands,
            attachments=attachments,
            notary=self.notary,
            time_window=self._time_window,
            references=[sar.ref for sar in self._references],
            network_parameters_hash=self._parameters_hash,
            privacy_salt=privacy_salt if privacy_salt is not None else new_privacy_salt(),
        )

    def sign(self, *keys: PrivateKey, privacy_salt: bytes | None = None) -> SignedTransaction:
        """Freeze and sign with `keys` (the builder's own signatures)."""
        stx = SignedTransaction(self.to_wire_transaction(privacy_salt))
        for key in keys:
            stx = stx.sign(key)
        return stx
