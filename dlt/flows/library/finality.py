"""Finality: notarise if needed, record, and make every participant record it too."""

from __future__ import annotations

from dlt.crypto import SecureHash
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_client import (
    NotaryClientFlow,
    NotaryClientSettings,
    NotaryUnavailableError,
    needs_notarisation,
)
from dlt.flows.library.transactions import ReceiveTransactionFlow, SendTransactionFlow
from dlt.identity import Party
from dlt.ledger import SignedTransaction, TransactionSignature


class FinalityFlow(FlowLogic[SignedTransaction]):
    """Verify `stx`, have the notary sign it, record it, send it to every session.

    Sessions are the other participants and any observers; their node runs ReceiveFinalityFlow.
    """

    stx: SignedTransaction
    sessions: tuple[FlowSession, ...] = ()
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
    """Receive a finalised transaction, verify it fully and record it."""

    session: FlowSession
    expected_tx_id: SecureHash | None = None

    async def call(self) -> SignedTransaction:
        stx = await self.sub_flow(ReceiveTransactionFlow(session=self.session))
        if self.expected_tx_id is not None and stx.id != self.expected_tx_id:
            raise FlowException(
                f"{self.session.counterparty} finalised {stx.id}, not the transaction "
                f"{self.expected_tx_id} this node signed"
            )
        await self.durable("finality.record", self.services.record_unit([stx]))
        return stx
