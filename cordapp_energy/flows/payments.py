"""Money: the payment issuer issues it, owners pay it to each other."""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from cordapp_energy.contracts.payment import IssuePayment, Pay
from cordapp_energy.flows.common import (
    RecordFinalisedFlow,
    finalise,
    select_payment,
)
from cordapp_energy.states import PaymentState
from cordapp_energy.units import Currency
from dlt.flows import FlowLogic, flow, responder
from dlt.flows.library import choose_notary
from dlt.identity import Party, X500Name
from dlt.ledger import SignedTransaction, StateAndRef, TransactionBuilder


def payment_outputs(
    coins: list[StateAndRef], amount: int, payee: Party, payer: Party
) -> list[PaymentState]:
    """`amount` to `payee` and the change to `payer`, conserved per issuer and currency."""
    by_token: dict[tuple[object, str], list[PaymentState]] = defaultdict(list)
    for sar in coins:
        state = sar.state.data
        by_token[(state.issuer.owning_key, state.currency)].append(state)
    outputs: list[PaymentState] = []
    remaining = amount
    for states in by_token.values():
        total = sum(state.amount for state in states)
        paid = min(total, remaining)
        remaining -= paid
        template = states[0]
        if paid:
            outputs.append(template.model_copy(update={"amount": paid, "owner": payee}))
        if total - paid:
            outputs.append(template.model_copy(update={"amount": total - paid, "owner": payer}))
    if remaining:
        raise ValueError(f"the selected coins fall {remaining} short of {amount}")
    return outputs


def add_payment(
    builder: TransactionBuilder, coins: list[StateAndRef], amount: int, payee: Party, payer: Party
) -> None:
    """Spend `coins` paying `amount` to `payee`, with a Pay command `payer` signs."""
    for sar in coins:
        builder.add_input_state(sar)
    for state in payment_outputs(coins, amount, payee, payer):
        builder.add_output_state(state)
    builder.add_command(Pay(), payer.owning_key)


@flow("energy.IssuePayment", initiating=True, rpc=True)
class IssuePaymentFlow(FlowLogic[SignedTransaction]):
    """The payment issuer creates `amount` minor units of `currency` for `owner`."""

    owner: X500Name
    amount: int = Field(gt=0)
    currency: Currency

    async def call(self) -> SignedTransaction:
        owner = self.services.identity.require_party(self.owner)
        builder = TransactionBuilder(notary=choose_notary(self))
        builder.add_output_state(
            PaymentState(
                amount=self.amount, currency=self.currency, issuer=self.our_identity, owner=owner
            )
        )
        builder.add_command(IssuePayment(), self.our_identity.owning_key)
        return await finalise(self, self.sign_initial(builder))


@flow("energy.Pay", initiating=True, rpc=True)
class PayFlow(FlowLogic[SignedTransaction]):
    """Pay `amount` minor units of `currency` to `recipient` from our coins."""

    recipient: X500Name
    amount: int = Field(gt=0)
    currency: Currency

    async def call(self) -> SignedTransaction:
        recipient = self.services.identity.require_party(self.recipient)
        coins, _ = await select_payment(self, self.amount, self.currency)
        builder = TransactionBuilder()
        add_payment(builder, coins, self.amount, recipient, self.our_identity)
        return await finalise(self, self.sign_initial(builder))


@responder(IssuePaymentFlow)
class IssuePaymentResponder(RecordFinalisedFlow):
    pass


@responder(PayFlow)
class PayResponder(RecordFinalisedFlow):
    pass
