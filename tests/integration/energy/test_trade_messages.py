"""What a notarised delivery-versus-payment costs on the wire, message by message: each
one is CPU on both nodes and the broker, so a new one must be worth it."""

from __future__ import annotations

from datetime import UTC, datetime

from cordapp_energy.flows import RequestAndPayFlow
from cordapp_energy.simulator.market import open_market
from cordapp_energy.states import EnergyType
from dlt.encoding import decode
from dlt.flows.protocol import SessionMessage


async def test_a_trade_with_a_single_notary_is_seven_messages(tmp_path):
    market = await open_market(tmp_path, ["Producer A"], ["Consumer A"], opening_balance=10_000)
    try:
        consumer, producer, notary = market.consumers[0], market.producers[0], market.notary

        async def trade(hour: int) -> None:
            await consumer.run(
                RequestAndPayFlow(
                    producer=producer.name,
                    quantity_wh=100,
                    energy_type=EnergyType.SOLAR,
                    window_start=datetime(2026, 6, 1, hour, tzinfo=UTC),
                    price_per_kwh=12,
                )
            )
            await market.network.settle()

        await trade(10)  # the producer now holds the chain of the consumer's money
        sent = market.network.messaging.sent
        sent.clear()
        await trade(11)

        def said(sender, recipient):
            messages = [
                decode(m.payload, SessionMessage)
                for who, m in sent
                if who == sender.name and m.recipient == recipient.name
            ]
            return [
                (m.kind.value, type(decode(m.payload)).__name__ if m.payload else None)
                for m in messages
            ]

        assert said(consumer, producer) == [
            ("init", "IssueRequest"),
            ("data", "SignedTransaction"),  # to sign
            ("data", "FinalSignatures"),  # the notarised transaction's, to record it
        ]
        assert said(producer, consumer) == [("data", "list"), ("end", None)]
        assert said(consumer, notary) == [("init", "NotarySubmission")]
        assert said(notary, consumer) == [("data", "NotarisationResponse")]
        assert len(sent) == 7
    finally:
        await market.stop()
