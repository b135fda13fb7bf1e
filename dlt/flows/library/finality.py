"""Finality: notarise if needed, record, and make every participant record it too."""

from __future__ import annotations

from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_client import (
    NotaryClientFlow,
    NotaryClientSettings,
    NotaryUnavailableError,
    needs_notarisation,
)
from dlt.flows.library.transactions import (
    DataVendingFlow,
    FetchRequest,
    ReceiveTransactionFlow,
    SendTransactionFlow,
)
from dlt.identity import Party
from dlt.ledger import SignedTransaction, TransactionSignature
from dlt.ledger.states import LedgerModel


@serializable("flows.FinalSignatures")
class FinalSignatures(LedgerModel):
    """What a signer, which holds the transaction already, is sent at finality: every
    signature of the finalised transaction, the notary's included."""

    tx_id: SecureHash
    signatures: tuple[TransactionSignature, ...]


class FinalityFlow(FlowLogic[SignedTransaction]):
    """Verify `stx`, have the notary sign it, record it, and make every session record it.

    `sessions` are the other participants and any observers: they are sent the transaction
    and resolve its back-chain. `signers` signed it through CollectSignaturesFlow and so hold
    it, verified, already: they are sent only its signatures. Their node runs
    ReceiveFinalityFlow, a signer's with `signed`.
    """

    stx: SignedTransaction
    sessions: tuple[FlowSession, ...] = ()
    signers: tuple[FlowSession, ...] = ()
    notary_deadline: float | None = None
    """Seconds to wait for the notary (the node's setting when None)."""

    async def call(self) -> SignedTransaction:
        stx = self.stx
        notary = stx.tx.notary
        self.step("Verifying the transaction")
        allowed = (notary.owning_key,) if notary is not None else ()
        await self.services.verify(stx, allowed_missing=allowed)
        if needs_notarisation(stx):
            self.step("Notarising")
            stx = stx.with_signatures(*await self._notarise(stx))
        self.step("Recording")
        await self.durable("finality.record", self.services.record_unit([stx]))
        final = FinalSignatures(tx_id=stx.id, signatures=stx.sigs)
        for session in self.signers:
            self.step(f"Sending the signatures to {session.counterparty.name}")
            await session.send(final)
        for session in self.signers:
            # Until it has recorded: its END, or its marker if its flow goes on.
            await self.sub_flow(DataVendingFlow(session=session, stx=stx))
        for session in self.sessions:
            self.step(f"Sending to {session.counterparty.name}")
            await self.sub_flow(SendTransactionFlow(session=session, stx=stx))
        return stx

    async def _notarise(self, stx: SignedTransaction) -> tuple[TransactionSignature, ...]:
        """The notary's signatures. A transaction that consumes states is asked for again
        until the notary decides: replicas that heard the request may have committed its
        inputs, so a new transaction could never spend them; giving up would strand them."""
        settings: NotaryClientSettings = self.services.notary_client
        wait = settings.first_reply_timeout
        while True:
            try:
                return await self.sub_flow(NotaryClientFlow(stx=stx, deadline=self.notary_deadline))
            except NotaryUnavailableError as undecided:
                if not stx.tx.inputs:
                    raise  # nothing consumed: the caller may build it anew, elsewhere
                if not self.fiber.replaying:
                    self.services.metrics.notarisations_in_doubt.inc()
                self.step(_in_doubt(undecided.notary, undecided.unresponsive, wait))
                await self.sleep(wait)
                wait = min(wait * 2, settings.resubmit_ceiling)


def _in_doubt(notary: Party, silent: list[Party], wait: float) -> str:
    names = ", ".join(str(party.name) for party in silent) or "none"
    return (
        f"Notarisation in doubt: {notary.name} has not reached a quorum (silent: {names}); "
        f"asking again in {wait:.1f} s, the inputs stay locked to this flow"
    )


class ReceiveFinalityFlow(FlowLogic[SignedTransaction]):
    """Receive a finalised transaction, verify it fully and record it.

    A signer passes `signed`, the transaction as it verified and signed it: it then receives
    only the signatures, and records its own copy once they complete it. Nothing the sender
    says can change what is recorded but the signatures, and each of those is checked.
    """

    session: FlowSession
    signed: SignedTransaction | None = None

    async def call(self) -> SignedTransaction:
        if self.signed is None:
            stx = await self.sub_flow(ReceiveTransactionFlow(session=self.session))
        else:
            stx = self._completed(self.signed, await self.session.receive(FinalSignatures))
        await self.durable("finality.record", self.services.record_unit([stx]))
        if self.signed is not None:
            # "Recorded", once it is: the sender waits for it, and an END says it as well.
            self.session.send_unless_ending(FetchRequest())
        return stx

    def _completed(self, signed: SignedTransaction, final: FinalSignatures) -> SignedTransaction:
        if final.tx_id != signed.id:
            raise FlowException(
                f"{self.session.counterparty} finalised {final.tx_id}, not the transaction "
                f"{signed.id} this node signed"
            )
        stx = signed.with_signatures(*final.signatures)
        stx.verify_signatures(describe=self.services.identity.describe)
        return stx
