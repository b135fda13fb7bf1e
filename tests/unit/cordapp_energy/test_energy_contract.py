"""EnergyContract through build -> sign -> verify: request, transfer and split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordapp_energy import (
    ENERGY_CONTRACT,
    CommandViolation,
    ConservationViolation,
    CurrencyViolation,
    EnergyState,
    EnergyType,
    EnergyTypeViolation,
    FieldChangeViolation,
    MarketRulesViolation,
    PartyViolation,
    PriceViolation,
    QuantityViolation,
    Request,
    ShapeViolation,
    SignerViolation,
    Split,
    Transfer,
)
from dlt.crypto import PublicKey
from dlt.ledger import Attachment, ContractRejectedError, StateAndRef, TransactionBuilder

from .support import (
    CONSUMER,
    NEIGHBOUR,
    OPERATOR,
    PRODUCER,
    RULES,
    builder,
    commit,
    energy,
    issue_energy,
    new_ledger,
    rejection,
    sign,
)


def request(state: EnergyState, *signers: PublicKey) -> TransactionBuilder:
    keys = signers or (state.issuer.owning_key,)
    return builder().add_output_state(state).add_command(Request(), *keys)


def transfer(
    source: StateAndRef, output: EnergyState, signer: PublicKey | None = None
) -> TransactionBuilder:
    owner_key = signer or source.state.data.owner.owning_key
    tx = builder().add_input_state(source).add_output_state(output)
    return tx.add_command(Transfer(), owner_key)


def split(source: StateAndRef, *parts: EnergyState) -> TransactionBuilder:
    tx = builder().add_input_state(source)
    for part in parts:
        tx.add_output_state(part)
    return tx.add_command(Split(), source.state.data.owner.owning_key)


def cause(error: ContractRejectedError) -> BaseException | None:
    return error.__cause__


# -- Request ------------------------------------------------------------------------------


def test_request_with_no_inputs_one_output_signed_by_the_requester_verifies(ledger):
    (issued,) = commit(ledger, request(energy(4_000)))

    assert issued.state.data.quantity_wh == 4_000
    assert issued.state.contract == ENERGY_CONTRACT


def test_request_ledger_transaction_has_zero_inputs_and_one_energy_output(ledger):
    ledger_tx = sign(request(energy())).verify(ledger)

    assert ledger_tx.inputs == ()
    assert [type(s) for s in ledger_tx.output_states] == [EnergyState]
    assert ledger_tx.commands[0].signing_parties == (PRODUCER.party,)


def test_request_may_issue_straight_to_a_consumer(ledger):
    outputs = commit(ledger, request(energy(owner=CONSUMER)))

    assert outputs[0].state.data.owner == CONSUMER.party


def test_request_not_signed_by_the_requester_is_rejected(ledger):
    error = rejection(ledger, request(energy(), CONSUMER.public_key))

    assert error.contract == ENERGY_CONTRACT
    assert isinstance(cause(error), SignerViolation)
    assert "the producer (issuer) O=Alice Solar" in error.reason


def test_request_consuming_energy_is_rejected(ledger):
    source = issue_energy(ledger, energy())
    tx = request(energy()).add_input_state(source)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), ShapeViolation)
    assert "1 energy inputs" in error.reason


def test_request_issuing_two_states_is_rejected(ledger):
    tx = request(energy()).add_output_state(energy(1_000))

    assert isinstance(cause(rejection(ledger, tx)), ShapeViolation)


def test_request_above_the_price_band_is_rejected_with_the_bounds(ledger):
    error = rejection(ledger, request(energy(price_per_kwh=45)))

    assert isinstance(cause(error), PriceViolation)
    assert error.reason == "price 45 per kWh for solar is outside the market rules' bounds [5, 40]"


def test_request_of_a_type_the_market_does_not_trade_is_rejected(ledger):
    error = rejection(ledger, request(energy(energy_type=EnergyType.BIOMASS)))

    assert isinstance(cause(error), EnergyTypeViolation)
    assert "biomass is not traded" in error.reason


def test_request_above_the_per_state_limit_is_rejected(ledger):
    error = rejection(ledger, request(energy(100_001)))

    assert isinstance(cause(error), QuantityViolation)
    assert "[1, 100000] Wh per state" in error.reason


def test_request_priced_in_another_currency_is_rejected(ledger):
    state = energy().model_copy(update={"currency": "EUR"})

    error = rejection(ledger, request(state))

    assert isinstance(cause(error), CurrencyViolation)
    assert "in EUR but the market trades in GBP" in error.reason


# -- the rules attachment -----------------------------------------------------------------


def test_transaction_without_the_rules_attachment_is_rejected(ledger):
    tx = TransactionBuilder(notary=builder().notary)
    tx.add_output_state(energy()).add_command(Request(), PRODUCER.public_key)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), MarketRulesViolation)
    assert "carries no market-rules attachment" in error.reason


def test_transaction_with_two_rules_attachments_is_rejected(ledger):
    newer = RULES.model_copy(update={"version": 2}).to_attachment(OPERATOR.key)
    ledger.attachments.import_attachment(newer)
    tx = request(energy()).add_attachment(newer.id)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), MarketRulesViolation)
    assert "2 market-rules attachments" in error.reason


def test_rules_the_operator_did_not_sign_are_rejected():
    ledger = new_ledger()
    looser = RULES.model_copy(update={"version": 7})
    forged = Attachment(looser.to_attachment(OPERATOR.key).data).signed_by(PRODUCER.key)
    ledger.attachments.import_attachment(forged)
    tx = TransactionBuilder(notary=builder().notary).add_attachment(forged.id)
    tx.add_output_state(energy()).add_command(Request(), PRODUCER.public_key)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), MarketRulesViolation)
    assert "not signed by its market operator" in error.reason


def test_two_energy_commands_in_one_transaction_are_rejected(ledger):
    tx = request(energy()).add_command(Transfer(), PRODUCER.public_key)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), CommandViolation)
    assert "found Request, Transfer" in error.reason


# -- Transfer -----------------------------------------------------------------------------


def test_transfer_with_one_input_and_one_output_to_a_new_owner_verifies(ledger):
    source = issue_energy(ledger, energy())

    outputs = commit(ledger, transfer(source, source.state.data.with_new_owner(CONSUMER.party)))

    assert source.state.data.owner == PRODUCER.party
    assert outputs[0].state.data.owner == CONSUMER.party
    assert outputs[0].state.data.model_copy(update={"owner": PRODUCER.party}) == (source.state.data)


def test_transfer_not_signed_by_the_current_owner_is_rejected(ledger):
    source = issue_energy(ledger, energy())
    tx = transfer(source, source.state.data.with_new_owner(CONSUMER.party), CONSUMER.public_key)

    error = rejection(ledger, tx)

    assert isinstance(cause(error), SignerViolation)
    assert "the current owner O=Alice Solar" in error.reason


def test_transfer_to_the_same_owner_is_rejected(ledger):
    source = issue_energy(ledger, energy())

    error = rejection(ledger, transfer(source, source.state.data))

    assert isinstance(cause(error), PartyViolation)
    assert "new owner" in error.reason


@pytest.mark.parametrize(
    "field, value",
    [("quantity_wh", 5_000), ("price_per_kwh", 21), ("energy_type", EnergyType.WIND)],
)
def test_transfer_changing_anything_but_the_owner_is_rejected(ledger, field, value):
    source = issue_energy(ledger, energy())
    changed = source.state.data.model_copy(update={"owner": CONSUMER.party, field: value})

    error = rejection(ledger, transfer(source, changed))

    assert isinstance(cause(error), FieldChangeViolation)
    assert f"changes {field}" in error.reason


def test_transfer_with_two_outputs_is_rejected(ledger):
    source = issue_energy(ledger, energy(4_000))
    tx = transfer(source, energy(2_000, owner=CONSUMER)).add_output_state(energy(2_000))

    assert isinstance(cause(rejection(ledger, tx)), ShapeViolation)


# -- Split --------------------------------------------------------------------------------


def test_split_of_a_fraction_to_another_owner_verifies(ledger):
    source = issue_energy(ledger, energy(4_000))

    outputs = commit(ledger, split(source, energy(1_000, owner=CONSUMER), energy(3_000)))

    assert [(o.state.data.owner, o.state.data.quantity_wh) for o in outputs] == [
        (CONSUMER.party, 1_000),
        (PRODUCER.party, 3_000),
    ]


def test_repeated_splits_pay_out_fractions_of_one_state(ledger):
    remainder = issue_energy(ledger, energy(4_000))
    paid_out = []
    for _ in range(3):
        left = remainder.state.data.quantity_wh - 1_000
        fraction, remainder = commit(
            ledger, split(remainder, energy(1_000, owner=CONSUMER), energy(left))
        )
        paid_out.append(fraction.state.data)

    assert remainder.state.data == energy(1_000)
    assert paid_out == [energy(1_000, owner=CONSUMER)] * 3


def test_split_creating_energy_is_rejected(ledger):
    source = issue_energy(ledger, energy(4_000))

    error = rejection(ledger, split(source, energy(1_000, owner=CONSUMER), energy(3_001)))

    assert isinstance(cause(error), ConservationViolation)
    assert "4000 Wh in, 4001 Wh out" in error.reason


def test_split_changing_the_price_is_rejected(ledger):
    source = issue_energy(ledger, energy(4_000))

    error = rejection(ledger, split(source, energy(1_000, price_per_kwh=5), energy(3_000)))

    assert isinstance(cause(error), FieldChangeViolation)
    assert "changes price_per_kwh" in error.reason


def test_split_into_one_state_is_rejected(ledger):
    source = issue_energy(ledger, energy(4_000))

    assert isinstance(cause(rejection(ledger, split(source, energy(4_000)))), ShapeViolation)


@st.composite
def partitions(draw: st.DrawFn) -> tuple[int, list[int]]:
    total = draw(st.integers(2, 100_000))
    cuts = draw(st.lists(st.integers(1, total - 1), min_size=1, max_size=5, unique=True))
    edges = [0, *sorted(cuts), total]
    return total, [b - a for a, b in itertools.pairwise(edges)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions(), st.integers(-3, 3))
def test_split_is_accepted_exactly_when_it_conserves_energy(partition, delta):
    ledger = new_ledger()
    total, parts = partition
    source = issue_energy(ledger, energy(total))
    parts[-1] += delta
    if parts[-1] <= 0:
        return
    owners = [CONSUMER, NEIGHBOUR, PRODUCER]
    tx = split(source, *(energy(q, owner=owners[i % 3]) for i, q in enumerate(parts)))

    if delta == 0:
        outputs = commit(ledger, tx)
        assert sum(o.state.data.quantity_wh for o in outputs) == total
    else:
        assert isinstance(cause(rejection(ledger, tx)), ConservationViolation)
