"""The notary service on a node: the responder to NotaryClientFlow, wrapping one replica."""

from __future__ import annotations

from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_client import NotaryClientFlow, NotarySubmission
from dlt.flows.library.notary_protocol import NotarisationResult
from dlt.flows.library.transactions import ResolveTransactionsFlow
from dlt.flows.registry import responder
from dlt.identity import Party
from dlt.ledger import SignedTransaction
from dlt.node.node import Node
from notary.replica import NotaryReplica
from notary.uniqueness import SqlUniquenessProvider

NOTARY_EXTENSION = "notary"


def install_notary_service(
    node: Node, *, validating: bool = False, service: Party | None = None
) -> NotaryReplica:
    """Make `node` a notary replica signing with its legal identity key: the whole service
    when `service` is None, else one replica of the cluster `service` (whose composite key
    has ours as a leaf)."""
    services = node.services
    identity = service or services.our_identity

    async def verify(stx: SignedTransaction) -> None:
        await services.verify(stx, allowed_missing=(identity.owning_key,))

    replica = NotaryReplica(
        key=services.keys.signing_key(services.our_identity.owning_key),
        service=identity,
        provider=SqlUniquenessProvider(node.db),
        clock=services.clock,
        validating=validating,
        verify_transaction=verify if validating else None,
        metrics=node.metrics,
    )
    services.extensions[NOTARY_EXTENSION] = replica
    return replica


async def answer_submission(
    flow: FlowLogic[None], session: FlowSession, submission: NotarySubmission
) -> NotarisationResult:
    """What this node's replica answers `submission`, received on `session`; a validating
    replica first fetches and checks the back-chain through that session."""
    replica = flow.services.extensions.get(NOTARY_EXTENSION)
    if not isinstance(replica, NotaryReplica):
        raise FlowException(f"{flow.our_identity.name} is not a notary")
    if submission.payload.signed is not None and replica.validating:
        flow.step("Resolving the back-chain")
        await flow.sub_flow(ResolveTransactionsFlow(session=session, stx=submission.payload.signed))
    flow.step("Committing the inputs")
    return await replica.process(submission.request, submission.payload, submission.signature)


@responder(NotaryClientFlow)
class NotaryServiceFlow(FlowLogic[None]):
    """Check a notarisation request and answer with signatures or a signed refusal.

    Uncheckpointed: the uniqueness commit is its only durable effect and answers the same
    request the same way again, and the client asks again when a replica stays silent."""

    checkpointed = False

    session: FlowSession

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        answer = await answer_submission(self, self.session, submission)
        # The client reads the answer as the end of its chain's vending too.
        await self.session.send(answer, instead_of_held_back=True)
