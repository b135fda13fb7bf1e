"""RequestAndPay under meter attestation: the producer's own reading backs the energy it issues
in the DvP, and no consumer can ask for, or substitute, more than that reading attests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cordapp_energy.contracts.energy import Request
from cordapp_energy.flows import PublishMarketRulesFlow, RecordMeterReadingFlow, RequestAndPayFlow
from cordapp_energy.flows.common import finalise, select_payment
from cordapp_energy.flows.dvp import TradeTerms
from cordapp_energy.flows.payments import add_payment
from cordapp_energy.flows.request_and_pay import IssueRequest
from cordapp_energy.flows.rules import community_rules, rules_for
from cordapp_energy.meters import MeterReadingState
from cordapp_energy.simulator.market import balance, holdings, open_market
from cordapp_energy.states import DeliveryWindow, EnergyState, EnergyType, PaymentState
from cordapp_energy.units import energy_cost
from dlt.flows import FlowException
from dlt.flows.library import ReceiveStatesFlow, SendTransactionFlow
from dlt.ledger import SignedTransaction, StateAndRef, StateRef, TransactionBuilder
from dlt.vault import CustomColumnCriteria, Operator, VaultQueryCriteria

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WINDOW = DeliveryWindow(start=NOON, end=NOON + timedelta(minutes=15))
PRICE = 15


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path,
        ["Producer A", "Producer B"],
        ["Consumer A", "Consumer B"],
        opening_balance=10_000,
        meters=True,
    )
    yield market
    await market.stop()


def buy(producer, quantity_wh: int) -> RequestAndPayFlow:
    return RequestAndPayFlow(
        producer=producer.name,
        quantity_wh=quantity_wh,
        energy_type=EnergyType.SOLAR,
        window_start=NOON,
        price_per_kwh=PRICE,
    )


async def unconsumed_reading(node) -> MeterReadingState:
    """`node`'s own unconsumed reading for the window: what its meter still backs."""
    return (await reading_ref(node)).state.data


async def reading_ref(node) -> StateAndRef:
    criteria = (
        VaultQueryCriteria(state_types=(MeterReadingState,))
        & CustomColumnCriteria(MeterReadingState, "window_start", Operator.EQ, NOON)
        & CustomColumnCriteria(MeterReadingState, "household_name", Operator.EQ, str(node.name))
    )
    page = await node.services.vault.query(criteria)
    assert len(page.states) == 1
    return page.states[0]


async def test_a_consumer_buys_energy_its_producers_meter_attests_in_one_transaction(market):
    producer, consumer = market.producers[0], market.consumers[0]
    await market.record_reading(producer, WINDOW, 5_000, 1_000)

    stx = await consumer.run(buy(producer, 3_000))
    await market.network.settle()

    assert await holdings(consumer, EnergyState, "quantity_wh") == 3_000
    assert await balance(consumer) == 10_000 - energy_cost(3_000, PRICE)
    assert await balance(producer) == energy_cost(3_000, PRICE)
    reading = next(s.data for s in stx.tx.outputs if isinstance(s.data, MeterReadingState))
    assert (reading.issued_wh, reading.available_wh) == (3_000, 1_000)
    assert (await unconsumed_reading(producer)).issued_wh == 3_000
    assert stx.tx.notary == market.notary.party
    assert any(sig.by == market.notary.party.owning_key for sig in stx.sigs)


async def test_asking_for_more_than_the_readings_remaining_surplus_is_refused(market):
    producer, consumer = market.producers[0], market.consumers[0]
    await market.record_reading(producer, WINDOW, 5_000, 1_000)

    with pytest.raises(FlowException, match=r"backs 4000 Wh more \(4000 Wh surplus, 0 Wh"):
        await consumer.run(buy(producer, 4_001))
    await market.network.settle()

    assert await holdings(consumer, EnergyState, "quantity_wh") == 0
    assert await balance(consumer) == 10_000
    assert (await unconsumed_reading(producer)).issued_wh == 0


async def test_buying_without_a_recorded_reading_is_refused(market):
    with pytest.raises(FlowException, match="no unused meter reading"):
        await market.consumers[0].run(buy(market.producers[0], 1_000))


async def test_a_sequence_of_trades_never_issues_more_than_the_meters_surplus(market):
    producer = market.producers[0]
    a, b = market.consumers
    await market.record_reading(producer, WINDOW, 5_000, 1_000)

    await a.run(buy(producer, 1_500))
    await b.run(buy(producer, 1_500))
    await a.run(buy(producer, 1_000))
    with pytest.raises(FlowException, match=r"backs 0 Wh more \(4000 Wh surplus, 4000 Wh"):
        await b.run(buy(producer, 1))
    await market.network.settle()

    bought = [await holdings(consumer, EnergyState, "quantity_wh") for consumer in (a, b)]
    assert bought == [2_500, 1_500]
    assert (await unconsumed_reading(producer)).issued_wh == 4_000


async def test_two_concurrent_trades_cannot_both_use_one_reading(market):
    producer = market.producers[0]
    a, b = market.consumers
    await market.record_reading(producer, WINDOW, 5_000, 1_000)

    handles = [await consumer.start_flow(buy(producer, 3_000)) for consumer in (a, b)]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(handle.result() for handle in handles), return_exceptions=True), 60
    )
    await market.network.settle()

    refused = [o for o in outcomes if isinstance(o, FlowException)]
    assert len(refused) == 1, outcomes
    assert "no unused meter reading" in str(refused[0]) or "backs 1000 Wh more" in str(refused[0])
    bought = [await holdings(consumer, EnergyState, "quantity_wh") for consumer in (a, b)]
    assert sorted(bought) == [0, 3_000]
    assert (await unconsumed_reading(producer)).issued_wh == 3_000


class _SubstitutingConsumer(RequestAndPayFlow):
    """An attacker's consumer: it asks for the producer's reading (or says it needs none),
    then issues the producer's energy against `substitute`, so the producer's surplus stays
    untouched, or against no reading at all; it skips its own verification and sends the
    transaction straight to the producer to sign."""

    substitute: StateRef | None = None
    ask_for_reading: bool = True

    async def call(self) -> SignedTransaction:
        producer = self.services.identity.require_party(self.producer)
        installed = await rules_for(self)
        cost = energy_cost(self.quantity_wh, self.price_per_kwh)
        coins, _ = await select_payment(self, cost, installed.rules.currency)
        session = self.initiate_flow(producer)
        terms = TradeTerms(
            quantity_wh=self.quantity_wh,
            price_per_kwh=self.price_per_kwh,
            energy_type=self.energy_type,
            window=WINDOW,
        )
        await session.send(IssueRequest(terms=terms, with_reading=self.ask_for_reading))
        if self.ask_for_reading:
            await self.sub_flow(ReceiveStatesFlow(session=session))
        builder = TransactionBuilder(notary=coins[0].state.notary)
        if self.substitute is not None:
            ref = self.substitute
            state = await self.durable(
                "attack.load-reading", lambda s: self.services.lookup(s).load_state(ref)
            )
            reading = StateAndRef(state=state, ref=ref)
            data = reading.state.data
            builder.add_input_state(reading)
            builder.add_output_state(
                data.model_copy(update={"issued_wh": data.issued_wh + self.quantity_wh})
            )
        add_payment(builder, coins, cost, producer, self.our_identity)
        builder.add_output_state(
            EnergyState(
                energy_type=self.energy_type,
                quantity_wh=self.quantity_wh,
                window=WINDOW,
                price_per_kwh=self.price_per_kwh,
                currency=installed.rules.currency,
                issuer=producer,
                owner=self.our_identity,
            )
        )
        builder.add_command(Request(), producer.owning_key)
        builder.add_attachment(installed.attachment_id)
        stx = self.sign_initial(builder)
        await self.sub_flow(SendTransactionFlow(session=session, stx=stx))
        signatures = await session.receive(list)
        return await finalise(self, stx.with_signatures(*signatures), {producer: session})


def substituting(producer, quantity_wh: int, **attack: object) -> _SubstitutingConsumer:
    return _SubstitutingConsumer(
        producer=producer.name,
        quantity_wh=quantity_wh,
        energy_type=EnergyType.SOLAR,
        window_start=NOON,
        price_per_kwh=PRICE,
        **attack,
    )


async def test_a_buyer_cannot_issue_the_producers_energy_against_its_own_reading(market):
    seller, buyer = market.producers
    await market.fund(buyer, 10_000)
    await market.record_reading(seller, WINDOW, 5_000, 0)
    await market.record_reading(buyer, WINDOW, 90_000, 0)
    own = (await reading_ref(buyer)).ref

    with pytest.raises(FlowException, match=r"refused the transaction: .*foreign meter reading"):
        await buyer.run(substituting(seller, 3_000, substitute=own))
    await market.network.settle()

    assert await holdings(buyer, EnergyState, "quantity_wh") == 0
    assert await balance(seller) == 0
    assert (await unconsumed_reading(seller)).issued_wh == 0
    assert (await unconsumed_reading(buyer)).issued_wh == 0


async def test_a_buyer_cannot_leave_out_the_reading_the_producer_offered(market):
    producer, consumer = market.producers[0], market.consumers[0]
    await market.record_reading(producer, WINDOW, 5_000, 0)

    with pytest.raises(FlowException, match=r"refused the transaction: .*require a meter reading"):
        await consumer.run(substituting(producer, 3_000))
    await market.network.settle()

    assert await holdings(consumer, EnergyState, "quantity_wh") == 0
    assert await balance(producer) == 0


async def test_a_buyer_cannot_waive_the_reading_the_rules_require(market):
    producer, consumer = market.producers[0], market.consumers[0]
    await market.record_reading(producer, WINDOW, 5_000, 0)

    with pytest.raises(FlowException, match="require a meter reading"):
        await consumer.run(substituting(producer, 3_000, ask_for_reading=False))
    assert await holdings(consumer, EnergyState, "quantity_wh") == 0


async def test_a_buyer_cannot_spend_a_reading_of_the_producers_it_was_not_offered(market):
    producer, consumer = market.producers[0], market.consumers[0]
    await market.record_reading(producer, WINDOW, 5_000, 0)
    first = await consumer.run(buy(producer, 1_000))
    index = next(i for i, s in enumerate(first.tx.outputs) if isinstance(s.data, MeterReadingState))
    remainder = StateRef(txhash=first.id, index=index)
    relaxed = community_rules(
        market.operator.party, market.bank.party, version=2, require_meter_readings=False
    )
    await market.operator.run(PublishMarketRulesFlow(rules=relaxed))
    await market.network.settle()

    with pytest.raises(FlowException, match="consumes a meter reading of ours we did not offer"):
        await consumer.run(
            substituting(producer, 3_000, substitute=remainder, ask_for_reading=False)
        )
    await market.network.settle()

    assert await holdings(consumer, EnergyState, "quantity_wh") == 1_000
    assert (await unconsumed_reading(producer)).issued_wh == 1_000


async def test_the_buyers_money_moves_to_the_notary_of_the_producers_reading(tmp_path):
    market = await open_market(
        tmp_path, ["Producer A"], ["Consumer A"], opening_balance=10_000, meters=True, notaries=2
    )
    try:
        producer, consumer = market.producers[0], market.consumers[0]
        page = await consumer.services.vault.query(VaultQueryCriteria(state_types=(PaymentState,)))
        (coin_notary,) = {sar.state.notary for sar in page.states}
        other = next(n.party for n in market.notaries if n.party != coin_notary)
        stx = market.meters[str(producer.name)].sign_reading(
            WINDOW, 5_000, 0, notary=other, parameters_hash=market.network.parameters.hash
        )
        await producer.run(RecordMeterReadingFlow.of(stx))

        bought = await consumer.run(buy(producer, 2_000), timeout=60)
        await market.network.settle()

        assert bought.tx.notary == other
        assert await holdings(consumer, EnergyState, "quantity_wh") == 2_000
        assert await balance(producer) == energy_cost(2_000, PRICE)
    finally:
        await market.stop()
