"""Market rules: a deterministic, operator-signed attachment, its checks, and enrolment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from cordapp_energy import (
    ConsumerEnrolmentError,
    DeliveryWindow,
    EnergyType,
    EnergyTypeViolation,
    MarketRules,
    MarketRulesSignatureError,
    NotMarketRulesError,
    PriceBand,
    PriceViolation,
    ProducerEnrolmentError,
    QuantityViolation,
    TradingHours,
    WindowViolation,
    check_enrolment_consumer,
    check_enrolment_producer,
)
from cordapp_energy.mechanisms import Mechanism
from dlt.encoding import encode
from dlt.ledger import Attachment, cordapp_attachment

from .support import DAY, NOON, OPERATOR, PRODUCER, RULES, RULES_ATTACHMENT


def test_rules_round_trip_through_their_signed_attachment():
    assert MarketRules.from_attachment(RULES_ATTACHMENT) == RULES
    assert RULES_ATTACHMENT.signers == {OPERATOR.public_key}


def test_equal_rules_encode_identically_whatever_order_their_lists_are_given_in():
    reordered = RULES.model_copy(update={"price_bands": tuple(reversed(RULES.price_bands))})
    revalidated = MarketRules.model_validate(dict(reordered))

    assert encode(revalidated) == encode(RULES)
    assert revalidated.to_attachment(OPERATOR.key).id == RULES_ATTACHMENT.id


def test_rules_attachment_without_the_operators_signature_is_refused():
    unsigned = Attachment(RULES_ATTACHMENT.data)

    with pytest.raises(MarketRulesSignatureError, match="not signed by its market operator"):
        MarketRules.from_attachment(unsigned)


def test_rules_attachment_signed_by_someone_else_is_refused():
    forged = Attachment(RULES_ATTACHMENT.data).signed_by(PRODUCER.key)

    with pytest.raises(MarketRulesSignatureError, match="O=Market Operator"):
        MarketRules.from_attachment(forged)


def test_only_the_operator_can_produce_the_rules_attachment():
    with pytest.raises(MarketRulesSignatureError, match="is not theirs"):
        RULES.to_attachment(PRODUCER.key)


def test_an_attachment_that_is_not_rules_is_refused():
    with pytest.raises(NotMarketRulesError, match="does not hold market rules"):
        MarketRules.from_attachment(cordapp_attachment("cordapp_energy"))


def test_each_energy_type_has_at_most_one_price_band():
    band = PriceBand(energy_type=EnergyType.SOLAR, min_price_per_kwh=1, max_price_per_kwh=2)

    with pytest.raises(ValidationError, match="only one price band"):
        RULES.model_validate({**dict(RULES), "price_bands": (band, band)})


def test_price_band_minimum_must_not_exceed_its_maximum():
    with pytest.raises(ValidationError, match="above maximum"):
        PriceBand(energy_type=EnergyType.WIND, min_price_per_kwh=9, max_price_per_kwh=8)


def test_price_outside_the_band_names_the_type_and_the_bounds():
    with pytest.raises(PriceViolation) as caught:
        RULES.check_price(EnergyType.SOLAR, 45)

    assert str(caught.value) == (
        "price 45 per kWh for solar is outside the market rules' bounds [5, 40]"
    )


def test_price_on_the_bounds_is_allowed():
    RULES.check_price(EnergyType.SOLAR, 5)
    RULES.check_price(EnergyType.SOLAR, 40)


def test_energy_type_without_a_band_is_not_traded():
    with pytest.raises(EnergyTypeViolation, match=r"hydro is not traded .* solar, wind"):
        RULES.band(EnergyType.HYDRO)


def test_order_quantity_outside_the_limits_is_refused():
    with pytest.raises(QuantityViolation, match=r"\[100, 50000\] Wh per order"):
        RULES.check_order_quantity(99)


def test_trading_hours_allow_windows_between_open_and_close():
    assert RULES.trading_hours.allows(NOON)
    assert RULES.trading_hours.allows(DeliveryWindow.slot(DAY, 24))
    assert RULES.trading_hours.allows(DeliveryWindow.slot(DAY, 87))


@pytest.mark.parametrize("index", [23, 88, 95])
def test_windows_outside_trading_hours_are_refused(index):
    with pytest.raises(WindowViolation, match="06:00-22:00 UTC"):
        RULES.check_trading_window(DeliveryWindow.slot(DAY, index))


def test_all_day_trading_allows_the_last_slot_but_not_spanning_midnight():
    hours = TradingHours(open_minute=0, close_minute=24 * 60)
    last = DeliveryWindow.slot(DAY, 95)
    across = DeliveryWindow(start=last.start, end=last.end + timedelta(minutes=15))

    assert hours.allows(last)
    assert not hours.allows(across)


def test_trading_hours_must_open_before_they_close():
    with pytest.raises(ValidationError, match="open before they close"):
        TradingHours(open_minute=600, close_minute=600)


@pytest.mark.parametrize("balance", [1_000, 50_000, 1_000_000])
def test_consumer_with_balance_within_bounds_is_enrolled(balance):
    check_enrolment_consumer(balance, RULES)


def test_consumer_below_the_minimum_balance_does_not_have_enough_balance():
    with pytest.raises(ConsumerEnrolmentError, match="does not have enough balance") as caught:
        check_enrolment_consumer(999, RULES)

    assert (caught.value.value, caught.value.minimum) == (999, 1_000)


def test_consumer_above_the_maximum_balance_is_refused():
    with pytest.raises(ConsumerEnrolmentError, match="above the market's enrolment maximum"):
        check_enrolment_consumer(1_000_001, RULES)


def test_producer_with_energy_within_bounds_is_enrolled():
    check_enrolment_producer(500, RULES)
    check_enrolment_producer(200_000, RULES)


def test_producer_below_the_minimum_energy_has_not_enough_energy():
    with pytest.raises(ProducerEnrolmentError, match="not enough energy"):
        check_enrolment_producer(499, RULES)


def test_producer_above_the_maximum_energy_is_refused():
    with pytest.raises(ProducerEnrolmentError, match="above the market's enrolment maximum"):
        check_enrolment_producer(200_001, RULES)


def test_new_markets_clear_by_uniform_price_and_require_meter_readings():
    fresh = MarketRules.model_validate({**dict(RULES), "require_meter_readings": True})
    assert fresh.mechanism is Mechanism.UNIFORM
    assert fresh.delta_max_bp == 1000
    assert MarketRules.model_validate(
        {k: v for k, v in dict(RULES).items() if k != "require_meter_readings"}
    ).require_meter_readings


@pytest.mark.parametrize("mechanism", list(Mechanism))
def test_the_rules_name_their_clearing_mechanism_and_keep_it_through_the_attachment(mechanism):
    rules = RULES.model_copy(update={"mechanism": mechanism})
    assert MarketRules.from_attachment(rules.to_attachment(OPERATOR.key)).mechanism is mechanism


def test_a_premium_cap_above_one_hundred_percent_is_refused():
    with pytest.raises(ValidationError, match="delta_max_bp"):
        MarketRules.model_validate({**dict(RULES), "delta_max_bp": 10_001})
