"""The sample token contract through build -> sign -> verify, accepted and rejected."""

from __future__ import annotations

import pytest

from dlt.ledger import (
    ContractRejectedError,
    SignaturesMissingError,
    TransactionBuilder,
)
from fixtures.ledger import ALICE, BOB, ISSUER, NOTARY, issuance, issue
from sample_cordapp import TOKEN_CONTRACT, TokenMove


def test_issuance_signed_by_the_issuer_verifies(ledger):
    stx = issuance(ALICE, 100)

    ledger_tx = stx.verify(ledger)

    assert ledger_tx.output_states[0].amount == 100
    assert ledger_tx.output_states[0].owner == ALICE.party
    assert stx.tx.notary == NOTARY.party


def test_transfer_conserving_the_amount_verifies_and_spends_the_input(ledger):
    coins = issue(ledger, ALICE, 100)
    builder = TransactionBuilder()
    builder.add_input_state(coins)
    builder.add_output_state(coins.state.data.with_new_owner(BOB.party))
    builder.add_command(TokenMove(), ALICE.public_key)
    stx = builder.sign(ALICE.key).sign(NOTARY.key)

    ledger_tx = stx.verify(ledger)

    assert ledger_tx.inputs[0].ref == coins.ref
    assert ledger_tx.output_states[0].owner == BOB.party
    assert builder.notary == NOTARY.party


def test_transfer_creating_tokens_is_rejected_by_the_contract(ledger):
    coins = issue(ledger, ALICE, 100)
    builder = TransactionBuilder()
    builder.add_input_state(coins)
    builder.add_output_state(
        coins.state.data.model_copy(update={"owner": BOB.party, "amount": 150})
    )
    builder.add_command(TokenMove(), ALICE.public_key)
    stx = builder.sign(ALICE.key, NOTARY.key)

    with pytest.raises(ContractRejectedError) as caught:
        stx.verify(ledger)

    assert caught.value.contract == TOKEN_CONTRACT
    assert "conserve" in caught.value.reason
    assert str(stx.id) in str(caught.value)


def test_transfer_not_signed_by_the_owner_is_rejected_by_the_contract(ledger):
    coins = issue(ledger, ALICE, 100)
    builder = TransactionBuilder()
    builder.add_input_state(coins)
    builder.add_output_state(coins.state.data.with_new_owner(BOB.party))
    builder.add_command(TokenMove(), BOB.public_key)
    stx = builder.sign(BOB.key, NOTARY.key)

    with pytest.raises(ContractRejectedError, match=r"owner .* must sign"):
        stx.verify(ledger)


def test_transfer_without_the_notary_signature_names_the_notary_as_missing(ledger):
    coins = issue(ledger, ALICE, 100)
    builder = TransactionBuilder()
    builder.add_input_state(coins)
    builder.add_output_state(coins.state.data.with_new_owner(BOB.party))
    builder.add_command(TokenMove(), ALICE.public_key)
    stx = builder.sign(ALICE.key)

    with pytest.raises(SignaturesMissingError) as caught:
        stx.verify_signatures(describe=lambda key: str(ledger.party_from_key(key)))

    assert caught.value.missing == {NOTARY.public_key}
    assert "O=Notary" in str(caught.value)


def test_issuer_is_resolved_as_signing_party(ledger):
    ledger_tx = issuance(ALICE, 5).verify(ledger)

    assert ledger_tx.commands[0].signing_parties == (ISSUER.party,)
