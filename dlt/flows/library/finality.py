"""Finality: notarise if needed, record, and make every participant record it too."""

from __future__ import annotations

from dlt.crypto import SecureHash
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_client import NotaryClientFlow, needs_notarisation
from dlt.flows.library.transactions import ReceiveTransactionFlow, SendTransactionFlow
from dlt.ledger import SignedTransaction


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
            signatures = await self.sub_flow(
                NotaryClientFlow(stx=stx, deadline=self.notary_deadline)
            )
            stx = stx.with_signatures(*signatures)
        self.step("Recording")
        await self.durable("finality.record", self.services.record_unit([stx]))
        for session in self.sessions:
            self.step(f"Sending to {session.counterparty.name}")
            await self.sub_flow(SendTransactionFlow(session=session, stx=stx))
        return stx


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
