"""Flows of the test token CorDapp: issue, move, a transfer both parties sign, a double spend."""

from __future__ import annotations

from pydantic import Field

from dlt.flows import FlowException, FlowLogic, FlowSession, flow, responder
from dlt.flows.library import (
    CollectSignaturesFlow,
    FinalityFlow,
    ReceiveFinalityFlow,
    SignTransactionFlow,
)
from dlt.identity import Party, X500Name
from dlt.ledger import SignedTransaction, StateAndRef, StateRef, TransactionBuilder
from dlt.vault import VaultQueryCriteria, load_transaction
from sample_cordapp.contract import TokenIssue, TokenMove
from sample_cordapp.state import TokenState


def _notary(flow: FlowLogic[object]) -> Party:
    notaries = flow.services.network_map.notary_identities
    if not notaries:
        raise FlowException("the network has no notary")
    return notaries[0]


@flow("test.IssueTokens", initiating=True, rpc=True)
class IssueTokensFlow(FlowLogic[SignedTransaction]):
    owner: X500Name
    amount: int = Field(gt=0)

    async def call(self) -> SignedTransaction:
        owner = self.services.identity.require_party(self.owner)
        builder = TransactionBuilder(notary=_notary(self))
        builder.add_output_state(
            TokenState(issuer=self.our_identity, owner=owner, amount=self.amount)
        )
        builder.add_command(TokenIssue(), self.our_identity.owning_key)
        stx = self.sign_initial(builder)
        sessions = () if owner == self.our_identity else (self.initiate_flow(owner),)
        return await self.sub_flow(FinalityFlow(stx=stx, sessions=sessions))


@responder(IssueTokensFlow)
class IssueTokensResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session))


async def _select(flow: FlowLogic[object], ref: StateRef) -> StateAndRef:
    criteria = VaultQueryCriteria(refs=(ref,), state_types=(TokenState,))
    vault = flow.services.vault
    selected = await flow.durable(
        "select", lambda s: vault.select_and_lock(s, flow.flow_id, criteria, limit=1)
    )
    return selected[0]


@flow("test.MoveTokens", initiating=True, rpc=True)
class MoveTokensFlow(FlowLogic[SignedTransaction]):
    ref: StateRef
    new_owner: X500Name

    async def call(self) -> SignedTransaction:
        new_owner = self.services.identity.require_party(self.new_owner)
        coins = await _select(self, self.ref)
        builder = TransactionBuilder()
        builder.add_input_state(coins)
        builder.add_output_state(coins.state.data.with_new_owner(new_owner))
        builder.add_command(TokenMove(), self.our_identity.owning_key)
        stx = self.sign_initial(builder)
        return await self.sub_flow(FinalityFlow(stx=stx, sessions=(self.initiate_flow(new_owner),)))


@responder(MoveTokensFlow)
class MoveTokensResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session))


@flow("test.AgreedMove", initiating=True, rpc=True)
class AgreedMoveFlow(FlowLogic[SignedTransaction]):
    """A move a co-signer (by default the new owner) must sign too: exercises
    CollectSignatures, and the co-signer's right to refuse."""

    ref: StateRef
    new_owner: X500Name
    cosigner: X500Name | None = None

    async def call(self) -> SignedTransaction:
        new_owner = self.services.identity.require_party(self.new_owner)
        cosigner = self.services.identity.require_party(self.cosigner or self.new_owner)
        coins = await _select(self, self.ref)
        builder = TransactionBuilder()
        builder.add_input_state(coins)
        builder.add_output_state(coins.state.data.with_new_owner(new_owner))
        builder.add_command(TokenMove(), self.our_identity.owning_key, cosigner.owning_key)
        session = self.initiate_flow(cosigner)
        stx = await self.sub_flow(
            CollectSignaturesFlow(stx=self.sign_initial(builder), sessions=(session,))
        )
        return await self.sub_flow(FinalityFlow(stx=stx, signers=(session,)))


class _CheckIncoming(SignTransactionFlow):
    async def check_transaction(self, stx: SignedTransaction) -> None:
        outputs = [state.data for state in stx.tx.outputs]
        if not any(isinstance(s, TokenState) and s.owner == self.our_identity for s in outputs):
            raise FlowException("this transaction gives us no tokens; refusing to sign")


@responder(AgreedMoveFlow)
class AgreedMoveResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        signed = await self.sub_flow(_CheckIncoming(session=self.session))
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session, signed=signed))


@flow("test.DoubleSpend", initiating=True)
class DoubleSpendFlow(FlowLogic[SignedTransaction]):
    """Spends a state straight from the transaction store, bypassing the vault's checks:
    only the notary stands between this and a double spend."""

    ref: StateRef
    new_owner: X500Name

    async def call(self) -> SignedTransaction:
        new_owner = self.services.identity.require_party(self.new_owner)
        stx = await self.durable("load", lambda s: load_transaction(s, self.ref.txhash))
        if stx is None:
            raise FlowException(f"no transaction {self.ref.txhash}")
        coins = StateAndRef(state=stx.tx.outputs[self.ref.index], ref=self.ref)
        builder = TransactionBuilder()
        builder.add_input_state(coins)
        builder.add_output_state(coins.state.data.with_new_owner(new_owner))
        builder.add_command(TokenMove(), self.our_identity.owning_key)
        return await self.sub_flow(
            FinalityFlow(stx=self.sign_initial(builder), sessions=(self.initiate_flow(new_owner),))
        )


@responder(DoubleSpendFlow)
class DoubleSpendResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session))
