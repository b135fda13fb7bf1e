"""The market rules: an operator-signed attachment every energy and order transaction carries.

Contracts read price bounds, trading hours and quantity limits from it, so changing the rules
is publishing a new signed attachment, not deploying new code. Who the market operator is, is
fixed by the network parameters the transaction pins (trusted signers for
`MARKET_RULES_SIGNERS`), never by the rules themselves: contracts refuse rules any other key
signed, and nodes install no others.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Self

from pydantic import Field, field_validator, model_validator

from cordapp_energy.errors import (
    ConsumerEnrolmentError,
    CurrencyViolation,
    EnergyTypeViolation,
    MarketRulesSignatureError,
    MarketRulesViolation,
    NotMarketRulesError,
    PriceViolation,
    ProducerEnrolmentError,
    QuantityViolation,
    UntrustedMarketOperatorError,
    WindowViolation,
)
from cordapp_energy.matching import BASIS_POINTS, DEFAULT_DELTA_MAX_BP
from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.states import DeliveryWindow, EnergyType
from cordapp_energy.units import Currency
from dlt.crypto import PrivateKey
from dlt.encoding import DecodingError, decode, encode, serializable
from dlt.identity import Party
from dlt.ledger import Attachment, LedgerModel, LedgerTransaction, NetworkParameters

MINUTES_PER_DAY = 24 * 60


@serializable("energy.PriceBand")
class PriceBand(LedgerModel):
    """The price table row of one energy type: limits in minor units per kWh, both inclusive."""

    energy_type: EnergyType
    min_price_per_kwh: int = Field(ge=0, strict=True)
    max_price_per_kwh: int = Field(ge=0, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_price_per_kwh > self.max_price_per_kwh:
            raise ValueError(
                f"the {self.energy_type} price band has minimum {self.min_price_per_kwh} "
                f"above maximum {self.max_price_per_kwh}"
            )
        return self

    def contains(self, price_per_kwh: int) -> bool:
        """Whether a price is allowed for this type; both bounds are inclusive."""
        return self.min_price_per_kwh <= price_per_kwh <= self.max_price_per_kwh


@serializable("energy.TradingHours")
class TradingHours(LedgerModel):
    """Daily trading hours [open, close) in minutes after midnight UTC; close may be 1440.

    A delivery window is tradable when it lies inside the hours of the UTC day it starts in,
    so windows never span midnight unless the market trades all day (0 to 1440).
    """

    open_minute: int = Field(ge=0, lt=MINUTES_PER_DAY, strict=True)
    close_minute: int = Field(gt=0, le=MINUTES_PER_DAY, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.open_minute >= self.close_minute:
            raise ValueError(
                f"trading hours must open before they close, got open minute "
                f"{self.open_minute} and close minute {self.close_minute}"
            )
        return self

    def allows(self, window: DeliveryWindow) -> bool:
        """Whether the whole window lies within the trading hours of the day it starts in."""
        day = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
        opens = day + timedelta(minutes=self.open_minute)
        closes = day + timedelta(minutes=self.close_minute)
        return opens <= window.start and window.end <= closes

    def __str__(self) -> str:
        return f"{_clock(self.open_minute)}-{_clock(self.close_minute)} UTC"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@serializable("energy.QuantityLimits")
class QuantityLimits(LedgerModel):
    """Wh bounds, inclusive: per issued energy state, and per order's maximum quantity alpha."""

    min_state_wh: int = Field(gt=0, strict=True)
    max_state_wh: int = Field(gt=0, strict=True)
    min_order_wh: int = Field(gt=0, strict=True)
    max_order_wh: int = Field(gt=0, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_state_wh > self.max_state_wh or self.min_order_wh > self.max_order_wh:
            raise ValueError("each quantity limit's minimum must not exceed its maximum")
        return self


@serializable("energy.EnrolmentLimits")
class EnrolmentLimits(LedgerModel):
    """Algorithm 1's bounds, inclusive: a consumer's balance (minor units), a producer's Wh."""

    min_consumer_balance: int = Field(ge=0, strict=True)
    max_consumer_balance: int = Field(ge=0, strict=True)
    min_producer_energy_wh: int = Field(ge=0, strict=True)
    max_producer_energy_wh: int = Field(ge=0, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if (
            self.min_consumer_balance > self.max_consumer_balance
            or self.min_producer_energy_wh > self.max_producer_energy_wh
        ):
            raise ValueError("each enrolment limit's minimum must not exceed its maximum")
        return self


@serializable("energy.MarketRules")
class MarketRules(LedgerModel):
    """One version of a market's rules, published by its operator as a signed attachment.

    Energy types trade only if they have a price band. Payment states count towards a
    settlement only if a listed payment issuer issued them. The rules also choose the clearing
    mechanism and whether issuance needs meter readings. Lists are kept sorted, so equal
    rules always encode, and therefore hash, the same.
    """

    version: int = Field(ge=1, strict=True)
    market_operator: Party
    currency: Currency
    price_bands: tuple[PriceBand, ...] = Field(min_length=1)
    trading_hours: TradingHours
    quantity_limits: QuantityLimits
    enrolment: EnrolmentLimits
    payment_issuers: tuple[Party, ...] = Field(min_length=1)
    mechanism: Mechanism = Mechanism.UNIFORM
    """How the operator clears each interval (``cordapp_energy.mechanisms``)."""
    delta_max_bp: int = Field(default=DEFAULT_DELTA_MAX_BP, ge=0, le=BASIS_POINTS, strict=True)
    """The reference mechanism's premium cap δ_max in basis points (10% by default)."""
    require_meter_readings: bool = True
    """Whether issuing energy needs the producer's meter-attested reading for the interval;
    on for new markets, so energy on the ledger is energy a meter saw produced."""

    @field_validator("price_bands")
    @classmethod
    def _one_band_per_type(cls, bands: tuple[PriceBand, ...]) -> tuple[PriceBand, ...]:
        types = [band.energy_type for band in bands]
        if len(set(types)) != len(types):
            raise ValueError("each energy type may have only one price band")
        return tuple(sorted(bands, key=lambda band: band.energy_type.value))

    @field_validator("payment_issuers")
    @classmethod
    def _distinct_issuers(cls, issuers: tuple[Party, ...]) -> tuple[Party, ...]:
        if len({issuer.owning_key for issuer in issuers}) != len(issuers):
            raise ValueError("each payment issuer may be listed only once")
        return tuple(sorted(issuers, key=lambda issuer: issuer.owning_key.encoded))

    # -- the checks contracts and flows share --------------------------------------------

    @property
    def energy_types(self) -> tuple[EnergyType, ...]:
        """The types the market trades: those with a price band."""
        return tuple(band.energy_type for band in self.price_bands)

    def band(self, energy_type: EnergyType) -> PriceBand:
        """The price band of `energy_type`; refuses types the market does not trade."""
        for band in self.price_bands:
            if band.energy_type == energy_type:
                return band
        traded = ", ".join(self.energy_types)
        raise EnergyTypeViolation(
            f"energy type {energy_type} is not traded under market rules version "
            f"{self.version}; traded types are {traded}"
        )

    def check_price(self, energy_type: EnergyType, price_per_kwh: int, what: str = "price") -> None:
        """Refuse a price outside the type's band; `what` names the price in the message."""
        band = self.band(energy_type)
        if not band.contains(price_per_kwh):
            raise PriceViolation(
                f"{what} {price_per_kwh} per kWh for {energy_type} is outside the market "
                f"rules' bounds [{band.min_price_per_kwh}, {band.max_price_per_kwh}]"
            )

    def check_state_quantity(self, quantity_wh: int) -> None:
        """Refuse issuing an energy state outside the per-state limits."""
        limits = self.quantity_limits
        if not limits.min_state_wh <= quantity_wh <= limits.max_state_wh:
            raise QuantityViolation(
                f"an energy state of {quantity_wh} Wh is outside the market rules' limits "
                f"[{limits.min_state_wh}, {limits.max_state_wh}] Wh per state"
            )

    def check_order_quantity(self, quantity_wh: int) -> None:
        """Refuse an order whose maximum quantity is outside the per-order limits."""
        limits = self.quantity_limits
        if not limits.min_order_wh <= quantity_wh <= limits.max_order_wh:
            raise QuantityViolation(
                f"an order for up to {quantity_wh} Wh is outside the market rules' limits "
                f"[{limits.min_order_wh}, {limits.max_order_wh}] Wh per order"
            )

    def check_currency(self, currency: str, what: str) -> None:
        """Refuse amounts in another currency; `what` names the amount in the message."""
        if currency != self.currency:
            raise CurrencyViolation(
                f"{what} is in {currency} but the market trades in {self.currency}"
            )

    def check_trading_window(self, window: DeliveryWindow) -> None:
        """Refuse orders for a delivery window outside the trading hours."""
        if not self.trading_hours.allows(window):
            raise WindowViolation(
                f"delivery window {window} is outside the market's trading hours "
                f"{self.trading_hours}; pick a window within one trading day"
            )

    def accepts_payment_from(self, issuer: Party) -> bool:
        """Whether money `issuer` issued counts towards paying for energy."""
        return any(issuer.owning_key == known.owning_key for known in self.payment_issuers)

    # -- as an attachment ----------------------------------------------------------------

    def unsigned_attachment(self) -> Attachment:
        """The rules as an attachment, for the operator's node to sign with its key service."""
        return Attachment(encode(self))

    def to_attachment(self, operator_key: PrivateKey) -> Attachment:
        """The rules as an attachment signed with the market operator's key."""
        if operator_key.public_key not in self.market_operator.owning_key.leaf_keys:
            raise MarketRulesSignatureError(
                f"market rules version {self.version} must be signed by their operator "
                f"{self.market_operator}; the given key {operator_key.public_key!r} is not theirs"
            )
        return self.unsigned_attachment().signed_by(operator_key)

    @classmethod
    def from_attachment(cls, attachment: Attachment) -> MarketRules:
        """The rules `attachment` holds; refuses rules their operator did not sign."""
        rules = _decoded_rules(attachment)
        if rules is None:
            raise NotMarketRulesError(f"attachment {attachment.id} does not hold market rules")
        if not rules.market_operator.owning_key.is_fulfilled_by(attachment.signers):
            raise MarketRulesSignatureError(
                f"market rules attachment {attachment.id} (version {rules.version}) is not "
                f"signed by its market operator {rules.market_operator}; use the copy the "
                "operator published"
            )
        return rules


_CBOR_MAP = range(0xA0, 0xC0)


@lru_cache(maxsize=64)
def _decoded_rules(attachment: Attachment) -> MarketRules | None:
    # Attachments are content-addressed and immutable, so the decoded rules can be reused by
    # every contract of a transaction and by later transactions carrying the same rules.
    data = attachment.data
    if not data or data[0] not in _CBOR_MAP:
        return None
    try:
        return decode(data, MarketRules)
    except DecodingError:
        return None


MARKET_RULES_SIGNERS = "energy.market-rules"
"""The purpose under which the network parameters name the market operator's key."""


def check_trusted_operator(rules: MarketRules, parameters: NetworkParameters | None) -> None:
    """Raise `UntrustedMarketOperatorError` unless the network parameters trust the rules'
    operator (whose signature `MarketRules.from_attachment` has checked) for market rules."""
    if parameters is None:
        raise UntrustedMarketOperatorError(
            "no network parameters are pinned, so nothing says who the market operator is; "
            "build the transaction with the network's parameters (sign_initial pins them)"
        )
    trusted = parameters.signers_for(MARKET_RULES_SIGNERS)
    if not trusted:
        raise UntrustedMarketOperatorError(
            f"the network parameters (epoch {parameters.epoch}) trust no key for "
            f"{MARKET_RULES_SIGNERS}; the network's operator must name the market operator"
        )
    if rules.market_operator.owning_key not in trusted:
        raise UntrustedMarketOperatorError(
            f"market rules version {rules.version} are signed by {rules.market_operator.name}, "
            f"whose key the network parameters do not trust for {MARKET_RULES_SIGNERS}; only "
            "the network's market operator may publish rules"
        )


def rules_in(tx: LedgerTransaction) -> MarketRules:
    """The one operator-signed market-rules attachment of `tx`, for contracts to verify against."""
    found = [(a, rules) for a in tx.attachments if (rules := _decoded_rules(a)) is not None]
    if not found:
        raise MarketRulesViolation(
            "the transaction carries no market-rules attachment; add the operator-signed rules "
            "(MarketRules.to_attachment) with TransactionBuilder.add_attachment"
        )
    if len(found) > 1:
        ids = ", ".join(a.id.prefix(12) for a, _ in found)
        raise MarketRulesViolation(
            f"the transaction carries {len(found)} market-rules attachments ({ids}); "
            "it must carry exactly one"
        )
    attachment, rules = found[0]
    try:
        rules = MarketRules.from_attachment(attachment)
        check_trusted_operator(rules, tx.network_parameters)
    except (MarketRulesSignatureError, UntrustedMarketOperatorError) as exc:
        raise MarketRulesViolation(str(exc)) from exc
    return rules


def check_enrolment_consumer(balance: int, rules: MarketRules) -> None:
    """Algorithm 1 for a consumer: enrol only if min <= balance <= max (minor units)."""
    limits = rules.enrolment
    low, high = limits.min_consumer_balance, limits.max_consumer_balance
    if balance < low:
        raise ConsumerEnrolmentError(
            f"the consumer does not have enough balance: {balance} {rules.currency} minor "
            f"units, the market requires at least {low}",
            balance,
            low,
            high,
        )
    if balance > high:
        raise ConsumerEnrolmentError(
            f"the consumer's balance {balance} {rules.currency} minor units is above the "
            f"market's enrolment maximum {high}",
            balance,
            low,
            high,
        )


def check_enrolment_producer(energy_wh: int, rules: MarketRules) -> None:
    """Algorithm 1 for a producer: enrol only if min <= available energy <= max (Wh)."""
    limits = rules.enrolment
    low, high = limits.min_producer_energy_wh, limits.max_producer_energy_wh
    if energy_wh < low:
        raise ProducerEnrolmentError(
            f"the producer has not enough energy: {energy_wh} Wh, the market requires at "
            f"least {low} Wh",
            energy_wh,
            low,
            high,
        )
    if energy_wh > high:
        raise ProducerEnrolmentError(
            f"the producer's {energy_wh} Wh is above the market's enrolment maximum {high} Wh",
            energy_wh,
            low,
            high,
        )
