"""The client side of notarisation: ask the transaction's notary to sign, check what it says."""

from __future__ import annotations

from dlt import PLATFORM_VERSION
from dlt.encoding import encode, serializable
from dlt.flows.api import FlowLogic
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_protocol import (
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
    NotarisationResponse,
    NotaryError,
    NotaryException,
    SignedConflict,
)
from dlt.flows.library.transactions import DataVendingFlow
from dlt.flows.registry import flow
from dlt.ledger import SignedTransaction, TransactionSignature, notary_view
from dlt.ledger.states import LedgerModel


@serializable("notary.Submission")
class NotarySubmission(LedgerModel):
    """One notarisation request as sent: who asks, their signature, and the transaction."""

    request: NotarisationRequest
    signature: NotarisationRequestSignature
    payload: NotarisationPayload


def needs_notarisation(stx: SignedTransaction) -> bool:
    """A notary must sign when states are consumed or referenced, or a time window is set."""
    tx = stx.tx
    return bool(tx.inputs or tx.references or tx.time_window is not None)


@flow("dlt.NotaryClient", initiating=True)
class NotaryClientFlow(FlowLogic[tuple[TransactionSignature, ...]]):
    """Have `stx`'s notary sign it. Raises NotaryException for a double spend or refusal."""

    stx: SignedTransaction

    async def call(self) -> tuple[TransactionSignature, ...]:
        tx = self.stx.tx
        notary = tx.notary
        if notary is None:
            raise FlowException(f"transaction {self.stx.id} names no notary")
        info = self.services.network_map.notary(notary)
        if info is None:
            raise FlowException(
                f"{notary} is not a notary on this network; pick one of "
                f"{', '.join(str(n.name) for n in self.services.network_map.notary_identities)}"
            )
        request = NotarisationRequest(
            tx_id=self.stx.id,
            requesting_party=self.our_identity,
            inputs=tx.inputs,
            references=tx.references,
        )
        our_key = self.our_identity.owning_key
        signature = NotarisationRequestSignature(
            by=our_key,
            signature=self.services.keys.sign(encode(request), our_key),
            platform_version=PLATFORM_VERSION,
        )
        payload = (
            NotarisationPayload.validating(self.stx)
            if info.validating
            else NotarisationPayload.non_validating(notary_view(tx))
        )
        session = self.initiate_flow(notary)
        await session.send(NotarySubmission(request=request, signature=signature, payload=payload))
        if info.validating:
            await self.sub_flow(DataVendingFlow(session=session, stx=self.stx))
        answer = await session.receive(LedgerModel)
        return self._check(answer)

    def _check(self, answer: LedgerModel) -> tuple[TransactionSignature, ...]:
        notary = self.stx.tx.notary
        assert notary is not None
        if isinstance(answer, SignedConflict):
            raise NotaryException(answer.verify(notary))
        if isinstance(answer, NotaryError):
            raise NotaryException(answer)
        if not isinstance(answer, NotarisationResponse):
            raise FlowException(f"{notary} answered with a {type(answer).__name__}")
        for sig in answer.signatures:
            sig.verify(self.stx.id)
        if not notary.owning_key.is_fulfilled_by({sig.by for sig in answer.signatures}):
            raise FlowException(f"{notary}'s signatures do not satisfy its key")
        return answer.signatures
