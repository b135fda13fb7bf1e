"""Forged transactions handed to an honest node as if finalised: each must be refused.

The attacker builds the bytes however it likes (it holds only its own keys) and sends them
under the honest payment flow's protocol, so the victim's ordinary ReceiveFinalityFlow
checks them. The scenario then asks the victim, over its RPC, whether it recorded any.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from attacks.flows.notarising import deliver
from cordapp_energy.contracts.energy import Request
from cordapp_energy.contracts.payment import IssuePayment, Pay
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.states import (
    ENERGY_CONTRACT,
    DeliveryWindow,
    EnergyState,
    EnergyType,
    PaymentState,
)
from cordapp_energy.units import Currency
from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, flow
from dlt.flows.library.notary_change import choose_notary
from dlt.flows.library.notary_client import NotaryClientFlow
from dlt.identity import X500Name
from dlt.ledger import (
    HashAttachmentConstraint,
    LedgerModel,
    SignedTransaction,
    StateAndRef,
    StateRef,
    TransactionBuilder,
    TransactionSignature,
    contract_code_id,
)
from dlt.vault import load_transaction


class Forgery(enum.StrEnum):
    TAMPERED = "tampered"
    """A genuine bank issuance with the amount and owner changed, the bank's signature kept."""
    WRONG_KEY = "wrong-key"
    """Money 'issued by the bank', signed by the attacker's key claiming to be the bank's."""
    FOREIGN_CONTRACT = "foreign-contract"
    """The bank's money labelled with the energy contract, which never asks the bank to sign."""
    MONEY_WITHOUT_ISSUER = "money-without-issuer"
    """An issuance of the bank's money the bank never signed."""
    ENERGY_WITHOUT_PRODUCER = "energy-without-producer"
    """Energy 'issued by' an honest producer that producer never signed."""
    INFLATED = "inflated"
    """A notarised spend of a real coin into a hundred times its value."""


@serializable("attack.ForgeryOutcome")
class ForgeryOutcome(LedgerModel):
    tx_id: SecureHash
    refusal: str
    """What the victim answered (empty if it answered nothing within the wait)."""


@flow("attack.Forge", initiating=True, rpc=True)
class ForgeFlow(FlowLogic[ForgeryOutcome]):
    """Build the forgery `kind` in favour of `victim` and hand it over as finalised. `coin` is
    a coin of ours, issued by `issuer` (the tampered and inflated forgeries start from one);
    `producer` is whom forged energy claims as its issuer."""

    kind: Forgery
    victim: X500Name
    issuer: X500Name
    producer: X500Name
    coin: StateRef

    async def call(self) -> ForgeryOutcome:
        victim = self.services.identity.require_party(self.victim)
        stx = await self._forge()
        refusal = await deliver(self, victim, stx)
        return ForgeryOutcome(tx_id=stx.id, refusal=refusal)

    async def _forge(self) -> SignedTransaction:
        victim = self.services.identity.require_party(self.victim)
        bank = self.services.identity.require_party(self.issuer)
        producer = self.services.identity.require_party(self.producer)
        rules = await rules_for(self)
        me = self.our_identity.owning_key
        money = PaymentState(amount=1_000_000, currency=Currency("EUR"), issuer=bank, owner=victim)
        builder = TransactionBuilder(notary=choose_notary(self))
        builder.add_attachment(rules.attachment_id)
        if self.kind is Forgery.TAMPERED:
            genuine = await self._coin_transaction()
            tampered = genuine.tx.outputs[self.coin.index].model_copy(update={"data": money})
            builder.add_output_state(tampered.data, notary=tampered.notary)
            builder.add_command(IssuePayment(), bank.owning_key)
            forged = self.sign_initial(builder, me)
            return SignedTransaction(forged.tx, genuine.sigs)
        if self.kind is Forgery.WRONG_KEY:
            builder.add_output_state(money)
            builder.add_command(IssuePayment(), bank.owning_key)
            unsigned = self.sign_initial(builder, me)
            ours = unsigned.sigs[0]
            claimed = TransactionSignature(
                by=bank.owning_key, signature=ours.signature, metadata=ours.metadata
            )
            return SignedTransaction(unsigned.tx, (claimed,))
        if self.kind is Forgery.FOREIGN_CONTRACT:
            builder.add_output_state(money)
            relabelled = builder._outputs[-1].model_copy(
                update={
                    "contract": ENERGY_CONTRACT,
                    "constraint": HashAttachmentConstraint(
                        attachment_id=contract_code_id(ENERGY_CONTRACT)
                    ),
                }
            )
            builder._outputs[-1] = relabelled
            builder.add_command(Request(), me)
            return self.sign_initial(builder, me)
        if self.kind is Forgery.MONEY_WITHOUT_ISSUER:
            builder.add_output_state(money)
            builder.add_command(IssuePayment(), me)
            return self.sign_initial(builder, me)
        if self.kind is Forgery.ENERGY_WITHOUT_PRODUCER:
            start = datetime(2026, 6, 1, 12, tzinfo=UTC)
            builder.add_output_state(
                EnergyState(
                    energy_type=EnergyType.SOLAR,
                    quantity_wh=10_000,
                    window=DeliveryWindow(start=start, end=start + timedelta(minutes=15)),
                    price_per_kwh=10,
                    currency=Currency("EUR"),
                    issuer=producer,
                    owner=victim,
                )
            )
            builder.add_command(Request(), me)
            return self.sign_initial(builder, me)
        genuine = await self._coin_transaction()
        coin = StateAndRef(state=genuine.tx.outputs[self.coin.index], ref=self.coin)
        spend = TransactionBuilder()
        spend.add_input_state(coin)
        assert isinstance(coin.state.data, PaymentState)
        inflated = coin.state.data.model_copy(
            update={"amount": coin.state.data.amount * 100, "owner": victim}
        )
        spend.add_output_state(inflated)
        spend.add_command(Pay(), me)
        spend.add_attachment(rules.attachment_id)
        stx = self.sign_initial(spend, me)
        signatures = await self.sub_flow(NotaryClientFlow(stx=stx))
        return stx.with_signatures(*signatures)

    async def _coin_transaction(self) -> SignedTransaction:
        ref = self.coin
        stx = await self.durable("attack.load", lambda s: load_transaction(s, ref.txhash))
        if stx is None:
            raise FlowException(f"no transaction {ref.txhash} is known here")
        return stx
