"""The notary service on a node: the responder to NotaryClientFlow, wrapping one replica."""

from __future__ import annotations

from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_client import NotaryClientFlow, NotarySubmission
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


@responder(NotaryClientFlow)
class NotaryServiceFlow(FlowLogic[None]):
    """Check a notarisation request and answer with signatures, signed conflict or refusal."""

    session: FlowSession

    async def call(self) -> None:
        replica = self.services.extensions.get(NOTARY_EXTENSION)
        if not isinstance(replica, NotaryReplica):
            raise FlowException(f"{self.our_identity.name} is not a notary")
        submission = await self.session.receive(NotarySubmission)
        if submission.payload.signed is not None and replica.validating:
            self.step("Resolving the back-chain")
            await self.sub_flow(
                ResolveTransactionsFlow(session=self.session, stx=submission.payload.signed)
            )
        self.step("Committing the inputs")
        answer = await replica.process(submission.request, submission.payload, submission.signature)
        await self.session.send(answer)
