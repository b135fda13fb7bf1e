"""Issuing energy needs the issuer's meter reading: valid, forged, foreign, replayed, over-issued
and double-used readings, each refused with an error that says which."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cordapp_energy import (
    MARKET_RULES_SIGNERS,
    DeliveryWindow,
    EnergyState,
    MarketRules,
    Request,
)
from cordapp_energy.errors import (
    DoubleUsedReadingError,
    ExpiredMeterError,
    ForeignReadingError,
    ForgedReadingError,
    MissingReadingError,
    OverIssueError,
    ReplayedReadingError,
    ShapeViolation,
)
from cordapp_energy.meters import (
    METER_CA_SIGNERS,
    Meter,
    MeterReadingState,
    RecordReading,
)
from dlt.identity import DevCertificateAuthority
from dlt.ledger import (
    ContractRejectedError,
    NetworkParameters,
    SignedTransaction,
    StateAndRef,
    TransactionBuilder,
)
from dlt.testing import InMemoryLedger

from .support import DAY, EVERYONE, NEIGHBOUR, NOON, NOTARY, OPERATOR, PRODUCER, RULES, energy

ADMITTED = DAY - timedelta(days=30)
"""When the doorman admitted the test meters: before the readings they sign."""
CA = DevCertificateAuthority.create(now=ADMITTED - timedelta(days=1))
PARAMETERS = NetworkParameters(
    trusted_signers={
        MARKET_RULES_SIGNERS: (OPERATOR.public_key,),
        METER_CA_SIGNERS: (CA.doorman_key.public_key,),
    }
)
ATTESTED_RULES = MarketRules.model_validate({**dict(RULES), "require_meter_readings": True})
RULES_ATTACHMENT = ATTESTED_RULES.to_attachment(OPERATOR.key)
KEYS = {identity.public_key: identity.key for identity in EVERYONE}
QUARTER_PAST = DeliveryWindow.slot(DAY, 49)


def meter_for(
    household,
    ca: DevCertificateAuthority = CA,
    admitted: datetime = ADMITTED,
    validity: timedelta = timedelta(days=365),
) -> Meter:
    cert, key = ca.enrol_meter(household.party.name, now=admitted, validity=validity)
    return Meter(household.party, key, cert, ca.doorman_cert)


PRODUCER_METER = meter_for(PRODUCER)
NEIGHBOUR_METER = meter_for(NEIGHBOUR)


@pytest.fixture
def ledger() -> InMemoryLedger:
    ledger = InMemoryLedger(
        cordapps=["cordapp_energy"], parties=[i.party for i in EVERYONE], parameters=[PARAMETERS]
    )
    ledger.attachments.import_attachment(RULES_ATTACHMENT)
    return ledger


def record_reading(ledger, stx: SignedTransaction) -> StateAndRef:
    stx.verify(ledger)
    return ledger.record(stx)[0]


def signed_reading(meter: Meter, produced: int, consumed: int, window=NOON) -> SignedTransaction:
    return meter.sign_reading(
        window, produced, consumed, notary=NOTARY.party, parameters_hash=PARAMETERS.hash
    )


def issuance(reading: StateAndRef | None, state: EnergyState) -> TransactionBuilder:
    tx = TransactionBuilder(notary=NOTARY.party)
    tx.set_network_parameters_hash(PARAMETERS.hash)
    tx.add_attachment(RULES_ATTACHMENT.id)
    if reading is not None:
        tx.add_input_state(reading)
        data = reading.state.data
        tx.add_output_state(
            data.model_copy(update={"issued_wh": data.issued_wh + state.quantity_wh})
        )
    tx.add_output_state(state)
    tx.add_command(Request(), state.issuer.owning_key)
    return tx


def issue(ledger, tx: TransactionBuilder) -> list[StateAndRef]:
    stx = tx.sign(*(KEYS[key] for key in tx.to_wire_transaction().required_signing_keys))
    stx.verify(ledger)
    return ledger.record(stx)


def refusal(ledger, tx: TransactionBuilder) -> ContractRejectedError:
    with pytest.raises(ContractRejectedError) as caught:
        issue(ledger, tx)
    return caught.value


def test_energy_up_to_the_readings_surplus_is_issued(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 1_500))
    outputs = issue(ledger, issuance(reading, energy(3_500)))
    assert outputs[0].state.data.issued_wh == 3_500
    assert outputs[1].state.data.quantity_wh == 3_500


def test_a_reading_can_back_several_issuances_until_its_surplus_is_used(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 1_500))
    rest = issue(ledger, issuance(reading, energy(2_000)))[0]
    assert issue(ledger, issuance(rest, energy(1_500)))[0].state.data.available_wh == 0


def test_issuing_without_a_reading_is_refused_when_the_rules_require_one(ledger):
    assert isinstance(refusal(ledger, issuance(None, energy(100))).__cause__, MissingReadingError)


def test_issuing_more_than_the_surplus_is_an_over_issue(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 1_500))
    error = refusal(ledger, issuance(reading, energy(3_501)))
    assert isinstance(error.__cause__, OverIssueError)
    assert "over-issue: 3501 Wh" in str(error)
    assert "3500 Wh surplus" in str(error)


def test_a_household_that_consumed_more_than_it_produced_has_nothing_to_issue(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 1_000, 1_200))
    assert isinstance(refusal(ledger, issuance(reading, energy(1))).__cause__, OverIssueError)


def test_using_a_reading_again_beyond_what_is_left_is_a_double_use(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 1_500))
    rest = issue(ledger, issuance(reading, energy(3_000)))[0]
    error = refusal(ledger, issuance(rest, energy(501)))
    assert isinstance(error.__cause__, DoubleUsedReadingError)
    assert "3000 Wh are already issued" in str(error)


def test_a_reading_for_another_interval_is_a_replay(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 0))
    error = refusal(ledger, issuance(reading, energy(1_000, window=QUARTER_PAST)))
    assert isinstance(error.__cause__, ReplayedReadingError)


def test_signing_the_same_reading_again_yields_the_same_transaction():
    again = signed_reading(PRODUCER_METER, 5_000, 0)
    assert again.id == signed_reading(PRODUCER_METER, 5_000, 0).id


def test_issuing_against_a_neighbours_reading_is_refused_as_foreign(ledger):
    reading = record_reading(ledger, signed_reading(NEIGHBOUR_METER, 5_000, 0))
    error = refusal(ledger, issuance(reading, energy(1_000)))
    assert isinstance(error.__cause__, ForeignReadingError)
    assert "Carol Flat" in str(error)


def test_a_meter_cannot_attest_readings_for_another_household(ledger):
    stray = Meter(PRODUCER.party, NEIGHBOUR_METER.key, NEIGHBOUR_METER.certificate, CA.doorman_cert)
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, signed_reading(stray, 5_000, 0))
    assert isinstance(caught.value.__cause__, ForeignReadingError)


def test_a_reading_the_household_signed_itself_is_forged(ledger):
    honest = PRODUCER_METER.reading(NOON, 50_000, 0)
    tx = TransactionBuilder(notary=NOTARY.party)
    tx.set_network_parameters_hash(PARAMETERS.hash)
    tx.add_output_state(honest)
    tx.add_command(RecordReading(), PRODUCER.public_key)
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, tx.sign(PRODUCER.key))
    assert isinstance(caught.value.__cause__, ForgedReadingError)
    assert "not signed by the key of its meter" in str(caught.value)


def test_a_reading_for_an_interval_after_the_meters_certificate_expired_is_refused(ledger):
    lapsed = meter_for(PRODUCER, admitted=DAY - timedelta(days=10), validity=timedelta(days=5))
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, signed_reading(lapsed, 5_000, 0))
    assert isinstance(caught.value.__cause__, ExpiredMeterError)
    assert "expired" in str(caught.value)


def test_a_reading_for_an_interval_before_the_meters_certificate_was_valid_is_refused(ledger):
    early = meter_for(PRODUCER, admitted=DAY + timedelta(days=1))
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, signed_reading(early, 5_000, 0))
    assert isinstance(caught.value.__cause__, ExpiredMeterError)
    assert "not yet valid" in str(caught.value)


def test_a_reading_straddling_the_meters_expiry_is_refused(ledger):
    expiring = meter_for(
        PRODUCER, admitted=NOON.start - timedelta(days=1), validity=timedelta(days=1, minutes=5)
    )
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, signed_reading(expiring, 5_000, 0))
    assert isinstance(caught.value.__cause__, ExpiredMeterError)


def test_an_issuance_against_a_reading_from_an_expired_meter_is_refused(ledger):
    lapsed = meter_for(PRODUCER, admitted=DAY - timedelta(days=10), validity=timedelta(days=5))
    stx = signed_reading(lapsed, 5_000, 0)
    reading = ledger.record(stx)[0]
    error = refusal(ledger, issuance(reading, energy(1_000)))
    assert isinstance(error.__cause__, ExpiredMeterError)


def test_a_meter_certified_by_another_doorman_is_forged(ledger):
    rogue = meter_for(PRODUCER, DevCertificateAuthority.create(now=ADMITTED - timedelta(days=1)))
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, signed_reading(rogue, 5_000, 0))
    assert isinstance(caught.value.__cause__, ForgedReadingError)
    assert "do not trust to admit meters" in str(caught.value)


def test_a_certificate_without_the_meter_role_is_forged(ledger):
    node = CA.enrol_node(PRODUCER.party.name)
    impostor = Meter(
        PRODUCER.party, node.legal_identity_key, node.legal_identity_cert, node.node_ca_cert
    )
    trusting = PARAMETERS.with_trusted_signer(METER_CA_SIGNERS, node.node_ca_key.public_key)
    ledger.accept_parameters(trusting)
    stx = impostor.sign_reading(NOON, 5_000, 0, notary=NOTARY.party, parameters_hash=trusting.hash)
    with pytest.raises(ContractRejectedError) as caught:
        record_reading(ledger, stx)
    assert isinstance(caught.value.__cause__, ForgedReadingError)
    assert "LEGAL_IDENTITY certificate, not a METER one" in str(caught.value)


def test_an_altered_reading_output_is_refused(ledger):
    reading = record_reading(ledger, signed_reading(PRODUCER_METER, 5_000, 0))
    tx = TransactionBuilder(notary=NOTARY.party)
    tx.set_network_parameters_hash(PARAMETERS.hash)
    tx.add_attachment(RULES_ATTACHMENT.id)
    tx.add_input_state(reading)
    tx.add_output_state(reading.state.data.model_copy(update={"produced_wh": 90_000}))
    tx.add_output_state(energy(1_000))
    tx.add_command(Request(), PRODUCER.public_key)
    assert isinstance(refusal(ledger, tx).__cause__, ShapeViolation)


def test_a_reading_state_is_a_fact_of_its_household():
    reading = PRODUCER_METER.reading(NOON, 5_000, 1_000)
    assert isinstance(reading, MeterReadingState)
    assert reading.participants == (PRODUCER.party,)
    assert reading.surplus_wh == reading.available_wh == 4_000
