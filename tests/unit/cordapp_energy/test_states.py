"""The energy CorDapp's states: the reference paper's state tests, windows and encodings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from cordapp_energy import (
    ENERGY_CONTRACT,
    ORDER_CONTRACT,
    PAYMENT_CONTRACT,
    BidState,
    DeliveryWindow,
    EnergyState,
    EnergyType,
    OfferState,
    PaymentState,
)
from dlt.encoding import decode, encode
from dlt.ledger import ContractState, LinearState, OwnableState

from .support import BANK, CONSUMER, DAY, GBP, NOON, OPERATOR, PRODUCER, bid, energy, money, offer


def test_energy_state_is_a_contract_state_governed_by_the_energy_contract():
    state = energy()

    assert isinstance(state, ContractState)
    assert isinstance(state, OwnableState)
    assert EnergyState.contract_name == ENERGY_CONTRACT


def test_energy_state_has_exactly_two_participants_issuer_and_owner():
    state = energy(owner=CONSUMER)

    assert state.participants == (PRODUCER.party, CONSUMER.party)


def test_energy_state_exposes_every_field():
    state = energy(3_000, owner=CONSUMER, price_per_kwh=12, energy_type=EnergyType.WIND)

    assert state.energy_type == EnergyType.WIND
    assert state.quantity_wh == 3_000
    assert state.window == NOON
    assert state.price_per_kwh == 12
    assert state.currency == GBP
    assert state.issuer == PRODUCER.party
    assert state.owner == CONSUMER.party


def test_energy_state_with_new_owner_changes_only_the_owner():
    state = energy()

    moved = state.with_new_owner(CONSUMER.party)

    assert moved.owner == CONSUMER.party
    assert moved.model_copy(update={"owner": PRODUCER.party}) == state


@pytest.mark.parametrize("quantity_wh", [0, -5])
def test_energy_quantity_must_be_positive(quantity_wh):
    with pytest.raises(ValidationError, match="quantity_wh"):
        energy(quantity_wh)


@pytest.mark.parametrize("quantity_wh", [1_000.0, "1000", True])
def test_energy_quantity_must_be_an_int_never_a_float_or_text(quantity_wh):
    with pytest.raises(ValidationError, match="quantity_wh"):
        energy(quantity_wh)


def test_energy_price_may_be_zero_but_not_negative():
    assert energy(price_per_kwh=0).price_per_kwh == 0
    with pytest.raises(ValidationError, match="price_per_kwh"):
        energy(price_per_kwh=-1)


def test_energy_state_encodes_and_decodes_to_an_equal_state():
    state = energy(owner=CONSUMER)

    assert decode(encode(state), EnergyState) == state


def test_payment_state_has_only_its_owner_as_participant():
    state = money(500, CONSUMER.party)

    assert state.participants == (CONSUMER.party,)
    assert state.token == (BANK.party, GBP)
    assert PaymentState.contract_name == PAYMENT_CONTRACT


def test_payment_amount_must_be_positive():
    with pytest.raises(ValidationError, match="amount"):
        money(0, CONSUMER.party)


def test_orders_are_linear_states_shared_by_owner_and_market_operator():
    buy, sell = bid(owner=CONSUMER), offer(owner=PRODUCER)

    assert isinstance(buy, LinearState)
    assert buy.participants == (CONSUMER.party, OPERATOR.party)
    assert sell.participants == (PRODUCER.party, OPERATOR.party)
    assert BidState.contract_name == OfferState.contract_name == ORDER_CONTRACT
    assert (buy.kind, sell.kind) == ("bid", "offer")


def test_an_order_residual_keeps_its_identity_with_a_smaller_quantity():
    order = bid(2_000)

    residual = order.with_max_quantity(500)

    assert residual.max_quantity_wh == 500
    assert residual.linear_id == order.linear_id
    assert residual.with_max_quantity(2_000) == order


def test_order_encodes_and_decodes_to_an_equal_order():
    order = offer()

    assert decode(encode(order), OfferState) == order


def test_slot_is_the_indexed_quarter_hour_of_the_day():
    window = DeliveryWindow.slot(DAY, 49)

    assert window.start == DAY + timedelta(hours=12, minutes=15)
    assert window.end == DAY + timedelta(hours=12, minutes=30)


@pytest.mark.parametrize("index", [-1, 96])
def test_slot_index_must_be_within_the_day(index):
    with pytest.raises(ValueError, match="slots 0 to 95"):
        DeliveryWindow.slot(DAY, index)


def test_window_contains_instants_half_open():
    assert NOON.contains(NOON.start)
    assert NOON.contains(NOON.end - timedelta(microseconds=1))
    assert not NOON.contains(NOON.end)


def test_window_contains_the_windows_inside_it():
    hour = DeliveryWindow(start=NOON.start, end=NOON.start + timedelta(hours=1))

    assert hour.contains(NOON)
    assert not NOON.contains(hour)


def test_window_must_start_before_it_ends():
    with pytest.raises(ValidationError, match="must start before it ends"):
        DeliveryWindow(start=NOON.end, end=NOON.start)


def test_window_refuses_naive_times():
    with pytest.raises(ValidationError, match="timezone-aware"):
        DeliveryWindow(start=datetime(2024, 6, 1, 12), end=datetime(2024, 6, 1, 13))


def test_window_stores_other_offsets_as_the_same_instants_in_utc():
    paris = timezone(timedelta(hours=2))
    window = DeliveryWindow(
        start=datetime(2024, 6, 1, 14, tzinfo=paris), end=datetime(2024, 6, 1, 14, 15, tzinfo=paris)
    )

    assert window == NOON
    assert window.start.tzinfo == UTC
    assert encode(window) == encode(NOON)
