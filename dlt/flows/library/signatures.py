"""Collecting the counterparties' signatures, and giving ours after checking."""

from __future__ import annotations

from abc import abstractmethod

from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.transactions import ReceiveTransactionFlow, SendTransactionForReplyFlow
from dlt.ledger import SignedTransaction, TransactionSignature


class CollectSignaturesFlow(FlowLogic[SignedTransaction]):
    """Send `stx` to each session for signing; returns it with every signature but the notary's.

    The caller opens the sessions (its flow is the initiating one) and has signed already.
    """

    stx: SignedTransaction
    sessions: tuple[FlowSession, ...]

    async def call(self) -> SignedTransaction:
        stx = self.stx
        self.step("Verifying the transaction before asking for signatures")
        await self.services.verify(stx, allowed_missing=tuple(stx.missing_signers()))
        required = stx.tx.required_signing_keys
        for session in self.sessions:
            self.step(f"Collecting the signature of {session.counterparty.name}")
            signatures = await self.sub_flow(
                SendTransactionForReplyFlow(session=session, stx=stx, reply=list)
            )
            for signature in signatures:
                if not isinstance(signature, TransactionSignature):
                    raise FlowException(
                        f"{session.counterparty} sent something that is not a signature"
                    )
                signature.verify(stx.id)
                if not any(
                    key.is_fulfilled_by({signature.by}) or key == signature.by for key in required
                ):
                    raise FlowException(
                        f"{session.counterparty} signed with a key the transaction does not require"
                    )
            stx = stx.with_signatures(*signatures)
        notary = stx.tx.notary
        missing = stx.missing_signers() - ({notary.owning_key} if notary else set())
        if missing:
            names = ", ".join(self.services.identity.describe(k) or repr(k) for k in missing)
            raise FlowException(f"transaction {stx.id} still lacks signatures from {names}")
        return stx


class SignTransactionFlow(FlowLogic[SignedTransaction]):
    """The responder side of CollectSignaturesFlow: verify, run `check_transaction`, sign.

    Subclass and implement `check_transaction` to refuse anything this party should not sign.
    """

    session: FlowSession

    @abstractmethod
    async def check_transaction(self, stx: SignedTransaction) -> None:
        """Raise FlowException to refuse signing."""

    async def call(self) -> SignedTransaction:
        self.step("Receiving the transaction to sign")
        stx = await self.sub_flow(
            ReceiveTransactionFlow(session=self.session, check_sufficient_signatures=False)
        )
        self.step("Checking the transaction")
        await self.check_transaction(stx)
        ours = self.services.our_keys_in(stx.tx.required_signing_keys)
        if not ours:
            raise FlowException(
                f"{self.our_identity.name} was asked to sign transaction {stx.id}, "
                "which needs none of its keys"
            )
        signatures = [self.services.sign(stx, key) for key in ours]
        await self.session.send(signatures, instead_of_held_back=True)
        return stx.with_signatures(*signatures)
