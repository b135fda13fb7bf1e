"""Request and pay: a consumer asks a producer for new energy and pays in the same transaction.

The consumer builds the transaction, since it holds the money. Where the market rules require
meter readings the producer contributes its own reading for the window: it locks the reading
so no concurrent trade can use it too, sends it with its back chain, and signs only a
transaction that consumes exactly that reading, re-outputs it raised by the energy issued,
issues what was asked and pays for it in full.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cordapp_energy.contracts.common import same_party
from cordapp_energy.contracts.energy import Request
from cordapp_energy.errors import EnrolmentError
from cordapp_energy.flows.common import finalise, select_payment
from cordapp_energy.flows.dvp import TradeTerms, paid_to
from cordapp_energy.flows.energy import window_of
from cordapp_energy.flows.meter import after_issuing, reading_for, require_backing
from cordapp_energy.flows.payments import add_payment
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.market_rules import check_enrolment_producer
from cordapp_energy.meters import MeterReadingState
from cordapp_energy.states import EnergyState, EnergyType
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


@serializable("energy.IssueRequest")
class IssueRequest(LedgerModel):
    """What a consumer asks a producer to issue to it, and whether the producer's meter
    reading must back it (the consumer's market rules say so)."""

    terms: TradeTerms
    with_reading: bool


@flow("energy.RequestAndPay", initiating=True, rpc=True)
class RequestAndPayFlow(FlowLogic[SignedTransaction]):
    """A consumer asks `producer` for energy and pays for it in the same transaction."""

    producer: X500Name
    quantity_wh: int = Field(gt=0)
    energy_type: EnergyType
    window_start: datetime
    window_minutes: int = Field(default=15, gt=0, le=1440)
    price_per_kwh: int = Field(ge=0)

    async def call(self) -> SignedTransaction:
        producer = self.services.identity.require_party(self.producer)
        installed = await rules_for(self)
        rules = installed.rules
        rules.check_price(self.energy_type, self.price_per_kwh)
        rules.check_state_quantity(self.quantity_wh)
        terms = TradeTerms(
            quantity_wh=self.quantity_wh,
            price_per_kwh=self.price_per_kwh,
            energy_type=self.energy_type,
            window=window_of(self.window_start, self.window_minutes),
        )
        cost = energy_cost(self.quantity_wh, self.price_per_kwh)
        self.step("Selecting money")
        coins, _ = await select_payment(self, cost, rules.currency)
        session = self.initiate_flow(producer)
        await session.send(IssueRequest(terms=terms, with_reading=rules.require_meter_readings))
        builder = TransactionBuilder()
        if rules.require_meter_readings:
            self.step("Receiving the producer's meter reading")
            reading = await _receive_reading(self, session, producer, terms)
            coins = await align_notaries(self, coins, reading.state.notary)
            builder = TransactionBuilder(notary=reading.state.notary)
            builder.add_input_state(reading)
            builder.add_output_state(after_issuing(reading.state.data, terms.quantity_wh))
        add_payment(builder, coins, cost, producer, self.our_identity)
        builder.add_output_state(
            EnergyState(
                energy_type=terms.energy_type,
                quantity_wh=terms.quantity_wh,
                window=terms.window,
                price_per_kwh=terms.price_per_kwh,
                currency=rules.currency,
                issuer=producer,
                owner=self.our_identity,
            )
        )
        builder.add_command(Request(), producer.owning_key)
        builder.add_attachment(installed.attachment_id)
        self.step("Collecting the producer's signature")
        stx = await self.sub_flow(
            CollectSignaturesFlow(stx=self.sign_initial(builder), sessions=(session,))
        )
        self.step("Notarising and recording")
        return await finalise(self, stx, signers={producer: session})


async def _receive_reading(
    flow: FlowLogic[object], session: FlowSession, producer: Party, terms: TradeTerms
) -> StateAndRef:
    """The producer's reading for the window, checked against its resolved back chain."""
    offered = await flow.sub_flow(ReceiveStatesFlow(session=session))
    if len(offered) != 1:
        raise FlowException(
            f"{producer.name} offered {len(offered)} states; a request is backed by exactly "
            f"one meter reading of the producer for {terms.window}"
        )
    reading = offered[0]
    data = reading.state.data
    if (
        not isinstance(data, MeterReadingState)
        or not same_party(data.household, producer)
        or data.window != terms.window
    ):
        raise FlowException(
            f"{producer.name} offered a state that is not its meter reading for {terms.window}"
        )
    require_backing(reading, terms.quantity_wh)
    return reading


class _ProducerChecks(SignTransactionFlow):
    """Sign only a request that issues what was asked, backed by the reading we offered (or
    by none of ours if we offered none), and pays us its full cost."""

    terms: TradeTerms
    reading: StateAndRef | None

    async def check_transaction(self, stx: SignedTransaction) -> None:
        installed = await rules_for(self)
        issued = [
            s.data
            for s in stx.tx.outputs
            if isinstance(s.data, EnergyState) and s.data.issuer == self.our_identity
        ]
        if len(issued) != 1:
            raise FlowException("a request must issue exactly one energy state in our name")
        energy = issued[0]
        terms = self.terms
        asked = (terms.quantity_wh, terms.price_per_kwh, terms.energy_type, terms.window)
        if (energy.quantity_wh, energy.price_per_kwh, energy.energy_type, energy.window) != asked:
            raise FlowException("the energy the request issues differs from the terms asked")
        try:
            check_enrolment_producer(energy.quantity_wh, installed.rules)
        except EnrolmentError as refused:
            raise FlowException(str(refused)) from refused
        self._check_reading(stx, energy)
        cost = energy_cost(energy.quantity_wh, energy.price_per_kwh)
        received = paid_to(stx, self.our_identity, installed.rules)
        if received < cost:
            raise FlowException(
                f"we would be paid {received} for {energy.quantity_wh} Wh costing {cost}"
            )

    def _check_reading(self, stx: SignedTransaction, energy: EnergyState) -> None:
        ours = [
            s.data
            for s in stx.tx.outputs
            if isinstance(s.data, MeterReadingState)
            and same_party(s.data.household, self.our_identity)
        ]
        if self.reading is None:
            if ours:
                raise FlowException("the request consumes a meter reading of ours we did not offer")
            return
        expected = after_issuing(self.reading.state.data, energy.quantity_wh)
        if self.reading.ref not in stx.tx.inputs or ours != [expected]:
            raise FlowException(
                f"the request does not consume the meter reading we offered ({self.reading.ref}) "
                f"and re-output it with {expected.issued_wh} Wh issued"
            )


@responder(RequestAndPayFlow)
class RequestAndPayResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        request = await self.session.receive(IssueRequest)
        terms = request.terms
        reading: StateAndRef | None = None
        if request.with_reading:
            reading = await reading_for(self, terms.window, None)
            require_backing(reading, terms.quantity_wh)
            await self.sub_flow(SendStatesFlow(session=self.session, states=(reading,)))
        else:
            rules = (await rules_for(self)).rules
            if rules.require_meter_readings:
                raise FlowException(
                    f"market rules version {rules.version} require a meter reading to issue "
                    f"energy; {self.session.counterparty.name} asked for energy without ours"
                )
        checks = _ProducerChecks(session=self.session, terms=terms, reading=reading)
        signed = await self.sub_flow(checks)
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session, signed=signed))
