"""Queryable vault columns for the energy CorDapp's states (registered on import).

Flows and the RPC filter and sort on these, e.g. unconsumed solar energy for a window, a
party's money per currency, or the open bids of a delivery window by limit price.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String

from cordapp_energy.meters import MeterReadingState
from cordapp_energy.states import BidState, EnergyState, OfferState, OrderState, PaymentState
from dlt.identity import AbstractParty, Party
from dlt.vault import StateSchema, UtcTimestamp, register_state_schema

NAME = String(512)
KEY = String(64)
ENERGY_TYPE = String(16)
CURRENCY = String(3)


def _owner_columns(owner: AbstractParty) -> dict[str, Any]:
    # An anonymous owner has no name to show; its key fingerprint still finds it.
    return {
        "owner_name": str(owner.name) if isinstance(owner, Party) else None,
        "owner_key": str(owner.owning_key.fingerprint),
    }


def energy_columns(state: EnergyState) -> dict[str, Any]:
    return {
        "energy_type": state.energy_type.value,
        "quantity_wh": state.quantity_wh,
        "price_per_kwh": state.price_per_kwh,
        "currency": str(state.currency),
        "window_start": state.window.start,
        "window_end": state.window.end,
        "issuer_name": str(state.issuer.name),
        **_owner_columns(state.owner),
    }


def payment_columns(state: PaymentState) -> dict[str, Any]:
    return {
        "currency": str(state.currency),
        "amount": state.amount,
        "issuer_name": str(state.issuer.name),
        **_owner_columns(state.owner),
    }


def order_columns(state: OrderState) -> dict[str, Any]:
    return {
        "kind": state.kind,
        "linear_id": state.linear_id.id,
        "energy_type": state.energy_type.value,
        "window_start": state.window.start,
        "window_end": state.window.end,
        "max_quantity_wh": state.max_quantity_wh,
        "limit_price_per_kwh": state.limit_price_per_kwh,
        "currency": str(state.currency),
        "owner_name": str(state.owner.name),
        "market_operator_name": str(state.market_operator.name),
    }


_OWNER = {"owner_name": NAME, "owner_key": KEY}

ENERGY_SCHEMA: StateSchema[EnergyState] = register_state_schema(
    EnergyState,
    "energy_states",
    columns={
        "energy_type": ENERGY_TYPE,
        "quantity_wh": BigInteger,
        "price_per_kwh": BigInteger,
        "currency": CURRENCY,
        "window_start": UtcTimestamp,
        "window_end": UtcTimestamp,
        "issuer_name": NAME,
        **_OWNER,
    },
    extract=energy_columns,
    composite=[("owner_key", "energy_type", "window_start")],  # select_energy
)

PAYMENT_SCHEMA: StateSchema[PaymentState] = register_state_schema(
    PaymentState,
    "energy_payment_states",
    columns={"currency": CURRENCY, "amount": BigInteger, "issuer_name": NAME, **_OWNER},
    extract=payment_columns,
    composite=[("owner_key", "currency")],  # select_payment
)

_ORDER_COLUMNS = {
    "kind": String(8),
    "linear_id": String(32),
    "energy_type": ENERGY_TYPE,
    "window_start": UtcTimestamp,
    "window_end": UtcTimestamp,
    "max_quantity_wh": BigInteger,
    "limit_price_per_kwh": BigInteger,
    "currency": CURRENCY,
    "owner_name": NAME,
    "market_operator_name": NAME,
}

BID_SCHEMA: StateSchema[BidState] = register_state_schema(
    BidState, "energy_bid_states", columns=_ORDER_COLUMNS, extract=order_columns
)
OFFER_SCHEMA: StateSchema[OfferState] = register_state_schema(
    OfferState, "energy_offer_states", columns=_ORDER_COLUMNS, extract=order_columns
)


def reading_columns(state: MeterReadingState) -> dict[str, Any]:
    return {
        "window_start": state.window.start,
        "household_name": str(state.household.name),
        "produced_wh": state.produced_wh,
        "consumed_wh": state.consumed_wh,
        "issued_wh": state.issued_wh,
    }


READING_SCHEMA: StateSchema[MeterReadingState] = register_state_schema(
    MeterReadingState,
    "energy_meter_readings",
    columns={
        "window_start": UtcTimestamp,
        "household_name": NAME,
        "produced_wh": BigInteger,
        "consumed_wh": BigInteger,
        "issued_wh": BigInteger,
    },
    extract=reading_columns,
)
