"""An in-memory ledger: enough of a node's storage to resolve and verify transactions."""

from __future__ import annotations

from collections.abc import Iterable

from dlt.crypto import PublicKey, SecureHash
from dlt.identity import Party
from dlt.ledger import (
    Attachment,
    InMemoryAttachmentStorage,
    NetworkParameters,
    SignedTransaction,
    StateAndRef,
    StateRef,
    TransactionState,
    cordapp_attachment,
)


class InMemoryLedger:
    """Records transactions and knows identities; implements `dlt.ledger.LedgerLookup`."""

    def __init__(
        self,
        cordapps: Iterable[str] = (),
        parties: Iterable[Party] = (),
        parameters: Iterable[NetworkParameters] = (),
    ) -> None:
        self.attachments = InMemoryAttachmentStorage(cordapp_attachment(name) for name in cordapps)
        self._transactions: dict[SecureHash, SignedTransaction] = {}
        self._parties = {party.owning_key: party for party in parties}
        self._parameters = {p.hash: p for p in parameters}

    def accept_parameters(self, parameters: NetworkParameters) -> None:
        """Know `parameters`, as a node does once the network map publishes them."""
        self._parameters[parameters.hash] = parameters

    def network_parameters(self, parameters_hash: SecureHash) -> NetworkParameters | None:
        return self._parameters.get(parameters_hash)

    def record(self, stx: SignedTransaction) -> list[StateAndRef]:
        """Store a transaction; returns its outputs as states that can be spent."""
        self._transactions[stx.id] = stx
        return [
            StateAndRef(state=state, ref=StateRef(txhash=stx.id, index=index))
            for index, state in enumerate(stx.tx.outputs)
        ]

    def transaction(self, tx_id: SecureHash) -> SignedTransaction | None:
        return self._transactions.get(tx_id)

    def load_state(self, ref: StateRef) -> TransactionState | None:
        stx = self._transactions.get(ref.txhash)
        if stx is None or ref.index >= len(stx.tx.outputs):
            return None
        return stx.tx.outputs[ref.index]

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return self.attachments.open_attachment(attachment_id)

    def party_from_key(self, key: PublicKey) -> Party | None:
        return self._parties.get(key)
