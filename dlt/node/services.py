"""The ServiceHub: everything a flow may use of its node, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dlt.crypto import PublicKey, SecureHash
from dlt.flows.library.notary_client import NotaryClientSettings
from dlt.flows.library.notary_health import NotaryHealth
from dlt.identity import Party
from dlt.ledger import (
    Attachment,
    LedgerLookup,
    LedgerTransaction,
    OverlayLookup,
    SignedTransaction,
    TransactionSignature,
)
from dlt.ledger.network_parameters import NetworkParameters
from dlt.ledger.states import StateRef, TransactionState
from dlt.node.identity_service import IdentityService
from dlt.node.key_management import KeyManagementService
from dlt.node.metrics import NodeMetrics
from dlt.node.network_map_cache import NetworkMapCache
from dlt.vault.attachment_store import SqlAttachmentStorage, load_attachment, store_attachment
from dlt.vault.database import Database
from dlt.vault.ledger_lookup import SessionLedgerLookup
from dlt.vault.transaction_store import stored_ids
from dlt.vault.vault_service import VaultService


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceHub:
    our_identity: Party
    db: Database
    identity: IdentityService
    keys: KeyManagementService
    network_map: NetworkMapCache
    vault: VaultService
    attachments: SqlAttachmentStorage
    clock: Callable[[], datetime] = utc_now
    notary_client: NotaryClientSettings = field(default_factory=NotaryClientSettings)
    notary_health: NotaryHealth = field(default_factory=NotaryHealth)
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    extensions: dict[str, Any] = field(default_factory=dict)
    """Services a CorDapp or the notary adds (e.g. "notary" on a notary node)."""

    # -- signing --------------------------------------------------------------------------

    def sign(self, stx: SignedTransaction, key: PublicKey | None = None) -> TransactionSignature:
        """Sign `stx`'s id with our legal identity key (or `key`, which we must hold)."""
        return self.keys.sign_transaction(stx.id, key or self.our_identity.owning_key)

    def our_keys_in(self, keys: Iterable[PublicKey]) -> list[PublicKey]:
        ours = self.keys.keys
        return [key for key in keys if key in ours or key.leaf_keys & ours]

    # -- ledger ---------------------------------------------------------------------------

    def lookup(self, session: Session) -> LedgerLookup:
        """Resolve through `session`, naming signers from the network map's identities."""
        return _NodeLookup(self.vault.ledger_lookup(session), self.identity, self.network_map)

    async def verify(
        self,
        stx: SignedTransaction,
        *,
        check_signatures: bool = True,
        allowed_missing: Sequence[PublicKey] = (),
    ) -> LedgerTransaction:
        """Resolve and fully verify `stx` off the event loop; raises the ledger's typed errors."""
        await self.network_map.ensure_parameters([stx.tx.network_parameters_hash])

        def work(session: Session) -> LedgerTransaction:
            if check_signatures:
                stx.verify_signatures(allowed_missing, describe=self.identity.describe)
            ledger_tx = stx.to_ledger_transaction(self.lookup(session))
            ledger_tx.verify()
            return ledger_tx

        return await self.db.read(work)

    async def verify_chain(
        self, chain: Sequence[SignedTransaction], attachments: Sequence[Attachment]
    ) -> None:
        """Verify a fetched back-chain in order, each against the ones before it."""
        await self.network_map.ensure_parameters(stx.tx.network_parameters_hash for stx in chain)

        def work(session: Session) -> None:
            lookup = OverlayLookup(self.lookup(session), attachments=attachments)
            for stx in chain:
                stx.verify_signatures(describe=self.identity.describe)
                stx.to_ledger_transaction(lookup).verify()
                lookup.add(stx.tx)

        if chain:
            await self.db.read(work)

    def record_chain_unit(
        self, chain: Sequence[SignedTransaction], attachments: Sequence[Attachment]
    ) -> Callable[[Session], None]:
        def work(session: Session) -> None:
            for attachment in attachments:
                store_attachment(session, attachment, uploaded_at=self.clock())
            if chain:
                self.vault.record_transactions(session, chain)

        return work

    def record_unit(self, stxs: Sequence[SignedTransaction]) -> Callable[[Session], None]:
        """A unit of work recording `stxs` in the transaction store and the vault."""

        def work(session: Session) -> None:
            self.vault.record_transactions(session, stxs)

        return work

    def missing_transactions(
        self, ids: Iterable[SecureHash]
    ) -> Callable[[Session], list[SecureHash]]:
        wanted = list(ids)

        def work(session: Session) -> list[SecureHash]:
            stored = stored_ids(session, wanted)
            return [tx_id for tx_id in wanted if tx_id not in stored]

        return work

    def missing_attachments(
        self, ids: Iterable[SecureHash]
    ) -> Callable[[Session], list[SecureHash]]:
        wanted = list(ids)

        def work(session: Session) -> list[SecureHash]:
            return [a for a in wanted if load_attachment(session, a) is None]

        return work


class _NodeLookup:
    def __init__(
        self, base: SessionLedgerLookup, identities: IdentityService, network_map: NetworkMapCache
    ) -> None:
        self._base = base
        self._identities = identities
        self._network_map = network_map

    def network_parameters(self, parameters_hash: SecureHash) -> NetworkParameters | None:
        return self._network_map.known_parameters(parameters_hash)

    def load_state(self, ref: StateRef) -> TransactionState | None:
        return self._base.load_state(ref)

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return self._base.open_attachment(attachment_id)

    def party_from_key(self, key: PublicKey) -> Party | None:
        return self._identities.party_from_key(key)
