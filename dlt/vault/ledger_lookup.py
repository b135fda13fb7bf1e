"""A `LedgerLookup` over the database, so transactions resolve and verify inside a unit of work.

States come from stored transactions, not from the `states` table: verification needs any
output of any stored transaction, including states that were never ours.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dlt.crypto import PublicKey, SecureHash
from dlt.identity import Party
from dlt.ledger import Attachment, SignedTransaction, StateRef, TransactionState
from dlt.vault.attachment_store import load_attachment
from dlt.vault.identity_store import party_from_key
from dlt.vault.transaction_store import load_transaction


class SessionLedgerLookup:
    """Resolves through one session. Wrap it in `OverlayLookup` to see a back-chain not yet
    stored. Loaded transactions are cached for the lookup's lifetime: use one per unit of work.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._transactions: dict[SecureHash, SignedTransaction] = {}

    def transaction(self, tx_id: SecureHash) -> SignedTransaction | None:
        """The stored transaction `tx_id`; misses are not cached, it may be stored later."""
        stx = self._transactions.get(tx_id)
        if stx is None:
            stx = load_transaction(self._session, tx_id)
            if stx is not None:
                self._transactions[tx_id] = stx
        return stx

    def load_state(self, ref: StateRef) -> TransactionState | None:
        stx = self.transaction(ref.txhash)
        if stx is None:
            return None
        outputs = stx.tx.outputs
        return outputs[ref.index] if ref.index < len(outputs) else None

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return load_attachment(self._session, attachment_id)

    def party_from_key(self, key: PublicKey) -> Party | None:
        return party_from_key(self._session, key)
