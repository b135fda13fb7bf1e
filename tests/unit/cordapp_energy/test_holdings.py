"""What energy and money count for in a balance, and the bill read from each trade."""

from __future__ import annotations

from datetime import timedelta

from cordapp_energy import DeliveryWindow, Pay, Request, Transfer, energy_cost
from cordapp_energy.holdings import RULES, window_label
from dlt.cli.holdings import Facet, Holding
from dlt.ledger import SignedTransaction, TransactionBuilder
from dlt.testing import InMemoryLedger

from .support import (
    BANK,
    CONSUMER,
    DAY,
    NEIGHBOUR,
    NOON,
    PRODUCER,
    bid,
    builder,
    energy,
    issue_energy,
    issue_money,
    money,
    sign,
)
from .test_settlement import Trade

NOON_FACETS = [
    ("energy_type", "solar"),
    ("window", {"start": "2024-06-01T12:00:00Z", "end": "2024-06-01T12:15:00Z"}),
]


def recorded(ledger: InMemoryLedger, tx: TransactionBuilder) -> SignedTransaction:
    stx = sign(tx)
    stx.verify(ledger)
    ledger.record(stx)
    return stx


def request_and_pay(ledger: InMemoryLedger, quantity_wh: int, price: int) -> SignedTransaction:
    """What energy.RequestAndPay builds: new energy for the consumer, paid in the same tx."""
    wallet = issue_money(ledger, 1_000, CONSUMER)
    cost = energy_cost(quantity_wh, price)
    tx = builder().add_input_state(wallet)
    tx.add_output_state(money(cost, PRODUCER.party))
    tx.add_output_state(money(1_000 - cost, CONSUMER.party))
    tx.add_output_state(energy(quantity_wh, owner=CONSUMER, price_per_kwh=price))
    tx.add_command(Request(), PRODUCER.public_key)
    tx.add_command(Pay(), CONSUMER.public_key)
    return recorded(ledger, tx)


def test_energy_counts_its_watt_hours_per_energy_type_and_delivery_window():
    holding = RULES.holding(energy(1_500, owner=CONSUMER))

    assert holding is not None
    assert (holding.asset, holding.unit, holding.amount) == ("energy", "Wh", 1_500)
    assert [(f.name, f.value) for f in holding.facets] == NOON_FACETS


def test_money_counts_its_minor_units_per_issuer_and_currency():
    holding = RULES.holding(money(970, CONSUMER.party))

    assert holding == Holding(
        asset="money",
        unit="minor units",
        amount=970,
        facets=(
            Facet("issuer", str(BANK.party.name), str(BANK.party.name)),
            Facet("currency", "GBP", "GBP"),
        ),
    )


def test_an_order_is_not_an_asset():
    assert RULES.holding(bid()) is None


def test_a_settlement_is_a_purchase_for_the_buyer_at_the_agreed_price(ledger):
    stx = recorded(ledger, Trade(quantity_wh=1_525, price_per_kwh=20).build(ledger))

    [trade] = RULES.trades(stx, CONSUMER.public_key)

    assert (trade.side, trade.counterparty) == ("bought", str(PRODUCER.party.name))
    assert (trade.goods.amount, trade.price, trade.paid, trade.currency) == (1_525, 20, 31, "GBP")
    assert trade.tx_id == str(stx.id)


def test_the_same_settlement_is_a_sale_for_the_seller(ledger):
    stx = recorded(ledger, Trade(quantity_wh=1_500, price_per_kwh=20).build(ledger))

    [trade] = RULES.trades(stx, PRODUCER.public_key)

    assert (trade.side, trade.counterparty) == ("sold", str(CONSUMER.party.name))
    assert (trade.goods.amount, trade.paid) == (1_500, 30)


def test_a_party_outside_the_settlement_sees_no_trade_in_it(ledger):
    stx = recorded(ledger, Trade().build(ledger))

    assert list(RULES.trades(stx, NEIGHBOUR.public_key)) == []


def test_a_request_paid_in_the_same_transaction_is_bought_at_the_requested_price(ledger):
    stx = request_and_pay(ledger, 2_000, 15)

    [trade] = RULES.trades(stx, CONSUMER.public_key)

    assert (trade.side, trade.goods.amount, trade.price, trade.paid) == ("bought", 2_000, 15, 30)
    assert [(s.side, s.paid) for s in RULES.trades(stx, PRODUCER.public_key)] == [("sold", 30)]


def test_a_producer_issuing_to_itself_or_giving_energy_away_makes_no_trade(ledger):
    issued = issue_energy(ledger, energy(1_000))
    gift = builder().add_input_state(issued)
    gift.add_output_state(energy(1_000, owner=CONSUMER))
    gift.add_command(Transfer(), PRODUCER.public_key)
    given = recorded(ledger, gift)
    own = sign(builder().add_output_state(energy(500)).add_command(Request(), PRODUCER.public_key))

    for stx in (own, given):
        for party in (PRODUCER, CONSUMER):
            assert list(RULES.trades(stx, party.public_key)) == []


def test_a_window_of_whole_minutes_reads_as_a_date_and_two_times():
    assert window_label(NOON) == "2024-06-01 12:00-12:15Z"


def test_a_window_ending_after_midnight_ends_at_the_earlier_time():
    last = DeliveryWindow.slot(DAY, 95)

    assert window_label(last) == "2024-06-01 23:45-00:00Z"


def test_a_window_with_seconds_or_longer_than_a_day_is_shown_in_full():
    odd = DeliveryWindow(start=DAY + timedelta(seconds=30), end=DAY + timedelta(days=2))

    assert window_label(odd) == "2024-06-01 00:00:30Z/2024-06-03 00:00:00Z"
