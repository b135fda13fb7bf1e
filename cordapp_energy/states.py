"""Ledger states of the energy market: energy, payment, and the bids and offers of the auction.

All quantities are integer Wh and all money integer minor units (see `cordapp_energy.units`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Self

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from cordapp_energy.units import Currency
from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger import LedgerModel, LinearState, OwnableState

ENERGY_CONTRACT = "energy.EnergyContract"
PAYMENT_CONTRACT = "energy.PaymentContract"
ORDER_CONTRACT = "energy.OrderContract"

SLOT = timedelta(minutes=15)
SLOTS_PER_DAY = 96


class EnergyType(enum.StrEnum):
    """Where the energy comes from; the market rules say which types trade and at what prices."""

    SOLAR = "solar"
    WIND = "wind"
    HYDRO = "hydro"
    BIOMASS = "biomass"
    GEOTHERMAL = "geothermal"
    OTHER = "other"


@serializable("energy.DeliveryWindow")
class DeliveryWindow(LedgerModel):
    """The half-open interval [start, end) in which energy is delivered (the paper's lambda).

    Both ends are timezone-aware and stored in UTC, so two windows are equal exactly when
    they cover the same instants.
    """

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _in_utc(cls, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(
                f"delivery window times must be timezone-aware (use UTC), got {moment!r}"
            )
        return moment.astimezone(UTC)

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError(
                f"a delivery window must start before it ends, got "
                f"{self.start.isoformat()} to {self.end.isoformat()}"
            )
        return self

    @classmethod
    def slot(cls, day_start: datetime, index: int) -> DeliveryWindow:
        """The `index`-th 15-minute trading slot (0 to 95) of the day that begins at `day_start`."""
        if not 0 <= index < SLOTS_PER_DAY:
            raise ValueError(f"a day has slots 0 to {SLOTS_PER_DAY - 1}, got slot {index}")
        start = day_start + index * SLOT
        return cls(start=start, end=start + SLOT)

    @property
    def duration(self) -> timedelta:
        """How long delivery lasts: 15 minutes for a trading slot."""
        return self.end - self.start

    def contains(self, other: datetime | DeliveryWindow) -> bool:
        """Whether an instant, or every instant of another window, lies in this window."""
        if isinstance(other, DeliveryWindow):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other < self.end

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


@serializable("energy.EnergyState")
class EnergyState(OwnableState):
    """A quantity of energy of one type for one delivery window, issued by its producer.

    Participants are the issuer and the owner, as in the reference paper: the producer keeps
    a record of every state it issued, whoever holds it now.
    """

    contract_name: ClassVar[str | None] = ENERGY_CONTRACT

    energy_type: EnergyType
    quantity_wh: int = Field(gt=0, strict=True)
    window: DeliveryWindow
    price_per_kwh: int = Field(ge=0, strict=True)
    currency: Currency
    issuer: Party
    owner: SerializeAsAny[AbstractParty]

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.issuer, self.owner)

    def with_quantity(self, quantity_wh: int) -> Self:
        """The same lot with another quantity: what a split produces."""
        return type(self).model_validate({**dict(self), "quantity_wh": quantity_wh})


@serializable("energy.PaymentState")
class PaymentState(OwnableState):
    """Fungible money: `amount` minor units of `currency`, an IOU of `issuer`, held by `owner`.

    Participants are the owner only, like Corda cash: the issuer does not learn of every
    payment made with its money, only of issuance and exit, which it signs.
    """

    contract_name: ClassVar[str | None] = PAYMENT_CONTRACT

    amount: int = Field(gt=0, strict=True)
    currency: Currency
    issuer: Party
    owner: SerializeAsAny[AbstractParty]

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.owner,)

    @property
    def token(self) -> tuple[Party, Currency]:
        """What amounts are conserved per: the same currency from another issuer is other money."""
        return (self.issuer, self.currency)


class OrderState(LinearState):
    """A bid or offer (window lambda, max quantity alpha, limit price beta) with the operator.

    The market operator is a participant: it records every order so it can clear the market,
    and it alone signs the match that consumes them.
    """

    contract_name: ClassVar[str | None] = ORDER_CONTRACT
    kind: ClassVar[str]

    window: DeliveryWindow
    max_quantity_wh: int = Field(gt=0, strict=True)
    limit_price_per_kwh: int = Field(ge=0, strict=True)
    energy_type: EnergyType
    currency: Currency
    owner: Party
    market_operator: Party

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.owner, self.market_operator)

    def with_max_quantity(self, max_quantity_wh: int) -> Self:
        """The residual order left after part of it traded."""
        return type(self).model_validate({**dict(self), "max_quantity_wh": max_quantity_wh})


@serializable("energy.BidState")
class BidState(OrderState):
    """A buy order: up to alpha Wh at no more than beta per kWh."""

    kind: ClassVar[str] = "bid"


@serializable("energy.OfferState")
class OfferState(OrderState):
    """A sell order: up to alpha Wh at no less than beta per kWh."""

    kind: ClassVar[str] = "offer"
