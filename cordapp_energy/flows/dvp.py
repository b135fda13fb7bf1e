"""Delivery versus payment: energy and money change hands in one transaction or not at all.

The buyer builds the transaction, since it holds the money; the seller checks it is paid in
full before signing. One notarisation covers both legs.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from cordapp_energy.contracts.energy import Settle, lot
from cordapp_energy.flows.common import finalise, select_energy, select_payment
from cordapp_energy.flows.payments import add_payment
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.market_rules import MarketRules
from cordapp_energy.states import DeliveryWindow, EnergyState, EnergyType, PaymentState
from cordapp_energy.units import energy_cost
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, FlowSession, flow, responder
from dlt.flows.library import (
    CollectSignaturesFlow,
    ReceiveFinalityFlow,
    ReceiveStatesFlow,
    SendStatesFlow,
    SignTransactionFlow,
    align_notaries,
)
from dlt.identity import Party, X500Name
from dlt.ledger import LedgerModel, SignedTransaction, StateAndRef, TransactionBuilder

SETTLEMENT_PATIENCE = 60.0
"""Seconds a seller waits for its energy that concurrent settlements hold (their change)."""


def paid_to(stx: SignedTransaction, party: Party, rules: MarketRules) -> int:
    """Money in the market's currency, from its issuers, that `stx`'s outputs give `party`.

    A seller puts no money of its own into the transaction, so this is what it receives;
    the contract checks the net amounts either way."""
    return sum(
        state.data.amount
        for state in stx.tx.outputs
        if isinstance(state.data, PaymentState)
        and state.data.owner == party
        and state.data.currency == rules.currency
        and rules.accepts_payment_from(state.data.issuer)
    )


@serializable("energy.TradeTerms")
class TradeTerms(LedgerModel):
    """What a buyer asks a seller to deliver, at what price."""

    quantity_wh: int = Field(gt=0)
    price_per_kwh: int = Field(ge=0)
    energy_type: EnergyType
    window: DeliveryWindow


def delivery_outputs(
    energy: list[StateAndRef], quantity_wh: int, buyer: Party
) -> list[EnergyState]:
    """`quantity_wh` to the buyer and every remainder back to the seller, lot by lot."""
    by_lot: dict[object, list[EnergyState]] = defaultdict(list)
    for sar in energy:
        by_lot[lot(sar.state.data)].append(sar.state.data)
    outputs: list[EnergyState] = []
    remaining = quantity_wh
    for states in by_lot.values():
        total = sum(state.quantity_wh for state in states)
        delivered = min(total, remaining)
        remaining -= delivered
        template = states[0]
        if delivered:
            outputs.append(template.with_quantity(delivered).with_new_owner(buyer))
        if total - delivered:
            outputs.append(template.with_quantity(total - delivered))
    if remaining:
        raise FlowException(f"the offered energy falls {remaining} Wh short of {quantity_wh} Wh")
    return outputs


@flow("energy.SettleTrade", initiating=True)
class SettleTradeFlow(FlowLogic[SignedTransaction]):
    """The buyer settles a matched trade with the seller: energy for money, atomically."""

    seller: X500Name
    terms: TradeTerms

    async def call(self) -> SignedTransaction:
        seller = self.services.identity.require_party(self.seller)
        installed = await rules_for(self)
        terms = self.terms
        session = self.initiate_flow(seller)
        await session.send(terms)
        self.step("Receiving the seller's energy")
        energy = await self.sub_flow(ReceiveStatesFlow(session=session))
        for sar in energy:
            state = sar.state.data
            if not isinstance(state, EnergyState) or state.owner != seller:
                raise FlowException(f"{seller.name} offered a state that is not its energy")
        cost = energy_cost(terms.quantity_wh, terms.price_per_kwh)
        coins, _ = await select_payment(self, cost, installed.rules.currency)
        notaries = {sar.state.notary for sar in energy}
        if len(notaries) != 1:
            raise FlowException(f"{seller.name} offered energy under several notaries")
        coins = await align_notaries(self, coins, next(iter(notaries)))
        builder = TransactionBuilder()
        for sar in energy:
            builder.add_input_state(sar)
        for output in delivery_outputs(list(energy), terms.quantity_wh, self.our_identity):
            builder.add_output_state(output)
        builder.add_command(
            Settle(
                seller=seller,
                buyer=self.our_identity,
                quantity_wh=terms.quantity_wh,
                price_per_kwh=terms.price_per_kwh,
            ),
            seller.owning_key,
            self.our_identity.owning_key,
        )
        add_payment(builder, coins, cost, seller, self.our_identity)
        builder.add_attachment(installed.attachment_id)
        self.step("Collecting the seller's signature")
        stx = await self.sub_flow(
            CollectSignaturesFlow(stx=self.sign_initial(builder), sessions=(session,))
        )
        self.step("Notarising and recording")
        return await finalise(self, stx, signers={seller: session})


class _SellerChecks(SignTransactionFlow):
    terms: TradeTerms

    async def check_transaction(self, stx: SignedTransaction) -> None:
        installed = await rules_for(self)
        settles = [c.value for c in stx.tx.commands if isinstance(c.value, Settle)]
        if len(settles) != 1 or settles[0].seller != self.our_identity:
            raise FlowException("this is not a settlement of our energy")
        settle = settles[0]
        if (settle.quantity_wh, settle.price_per_kwh) != (
            self.terms.quantity_wh,
            self.terms.price_per_kwh,
        ):
            raise FlowException("the settlement's quantity or price differs from the agreed terms")
        if paid_to(stx, self.our_identity, installed.rules) < settle.cost:
            raise FlowException(f"we would not be paid the {settle.cost} the energy costs")


@responder(SettleTradeFlow)
class SettleTradeResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        terms = await self.session.receive(TradeTerms)
        # Buyers settle matched trades at once; energy another buyer's settlement holds comes
        # back as change, so the seller waits for it rather than refusing the trade.
        energy = await select_energy(
            self, terms.quantity_wh, terms.energy_type, terms.window, SETTLEMENT_PATIENCE
        )
        await self.sub_flow(SendStatesFlow(session=self.session, states=tuple(energy)))
        signed = await self.sub_flow(_SellerChecks(session=self.session, terms=terms))
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session, signed=signed))
