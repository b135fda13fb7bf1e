"""Turning a WireTransaction into a LedgerTransaction by looking up what it refers to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from dlt.crypto import PublicKey, SecureHash
from dlt.identity import Party
from dlt.ledger.attachments import Attachment
from dlt.ledger.commands import CommandWithParties
from dlt.ledger.errors import AttachmentError, LedgerError
from dlt.ledger.ledger_transaction import LedgerTransaction
from dlt.ledger.network_parameters import NetworkParameters
from dlt.ledger.states import StateAndRef, StateRef, TransactionState
from dlt.ledger.wire_transaction import WireTransaction


class TransactionResolutionError(LedgerError):
    """A state the transaction consumes or references is not known here."""

    def __init__(self, ref: StateRef) -> None:
        super().__init__(
            f"state {ref} is unknown; fetch its transaction first (ResolveTransactionsFlow)"
        )
        self.ref = ref


class UnknownNetworkParametersError(LedgerError):
    """A transaction pins network parameters this node has not seen."""

    def __init__(self, tx_id: SecureHash, parameters_hash: SecureHash) -> None:
        super().__init__(
            f"transaction {tx_id} pins network parameters {parameters_hash}, which this node "
            "does not know; it fetches them from the network map before verifying"
        )
        self.parameters_hash = parameters_hash


class LedgerLookup(Protocol):
    """What resolution needs from a node: its transactions, attachments, identities and the
    network parameters it has accepted."""

    def load_state(self, ref: StateRef) -> TransactionState | None: ...

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None: ...

    def party_from_key(self, key: PublicKey) -> Party | None: ...

    def network_parameters(self, parameters_hash: SecureHash) -> NetworkParameters | None: ...


def resolve(tx: WireTransaction, lookup: LedgerLookup) -> LedgerTransaction:
    """Resolve inputs, references, attachments and signing parties of `tx`."""

    def state_and_ref(ref: StateRef) -> StateAndRef:
        state = lookup.load_state(ref)
        if state is None:
            raise TransactionResolutionError(ref)
        return StateAndRef(state=state, ref=ref)

    attachments = []
    for attachment_id in tx.attachments:
        attachment = lookup.open_attachment(attachment_id)
        if attachment is None:
            raise AttachmentError(
                f"transaction {tx.id} needs attachment {attachment_id}, which is not stored here"
            )
        attachments.append(attachment)

    commands = tuple(
        CommandWithParties(
            value=command.value,
            signers=command.signers,
            signing_parties=tuple(
                party
                for party in (lookup.party_from_key(key) for key in command.signers)
                if party is not None
            ),
        )
        for command in tx.commands
    )
    parameters = None
    if tx.network_parameters_hash is not None:
        parameters = lookup.network_parameters(tx.network_parameters_hash)
        if parameters is None:
            raise UnknownNetworkParametersError(tx.id, tx.network_parameters_hash)
    return LedgerTransaction(
        id=tx.id,
        inputs=tuple(state_and_ref(ref) for ref in tx.inputs),
        outputs=tx.outputs,
        commands=commands,
        attachments=tuple(attachments),
        notary=tx.notary,
        time_window=tx.time_window,
        references=tuple(state_and_ref(ref) for ref in tx.references),
        network_parameters_hash=tx.network_parameters_hash,
        network_parameters=parameters,
    )


class OverlayLookup:
    """A lookup that sees not-yet-recorded transactions and attachments over a base lookup:
    a back-chain can be verified in full before any of it is stored."""

    def __init__(
        self,
        base: LedgerLookup,
        transactions: Iterable[WireTransaction] = (),
        attachments: Iterable[Attachment] = (),
    ) -> None:
        self._base = base
        self._transactions = {tx.id: tx for tx in transactions}
        self._attachments = {a.id: a for a in attachments}

    def add(self, tx: WireTransaction) -> None:
        self._transactions[tx.id] = tx

    def load_state(self, ref: StateRef) -> TransactionState | None:
        tx = self._transactions.get(ref.txhash)
        if tx is not None:
            return tx.outputs[ref.index] if ref.index < len(tx.outputs) else None
        return self._base.load_state(ref)

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return self._attachments.get(attachment_id) or self._base.open_attachment(attachment_id)

    def party_from_key(self, key: PublicKey) -> Party | None:
        return self._base.party_from_key(key)

    def network_parameters(self, parameters_hash: SecureHash) -> NetworkParameters | None:
        return self._base.network_parameters(parameters_hash)
