"""Rules every transaction obeys whatever its contracts say."""

from __future__ import annotations

from typing import ClassVar

import pytest

from dlt.crypto import Ed25519PrivateKey
from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger import (
    ConstraintError,
    ContractBindingError,
    ContractCodeMismatchError,
    ContractRejectedError,
    ContractState,
    EncumbranceError,
    HashAttachmentConstraint,
    NotaryMismatchError,
    SignatureAttachmentConstraint,
    SignedTransaction,
    TransactionBuilder,
    TransactionBuildError,
    TransactionResolutionError,
    UnknownContractError,
    WireTransaction,
    cordapp_attachment,
)
from dlt.testing import test_identity
from fixtures.ledger import ALICE, BOB, ISSUER, NOTARY, issue
from sample_cordapp import TokenIssue, TokenMove, TokenState

OTHER_NOTARY = test_identity("O=Other Notary, L=Paris, C=FR")


def tokens(amount: int, owner=ALICE) -> TokenState:
    return TokenState(issuer=ISSUER.party, owner=owner.party, amount=amount)


def test_outputs_under_another_notary_are_refused(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(tokens(5), notary=OTHER_NOTARY.party)
    builder.add_command(TokenIssue(), ISSUER.public_key)

    with pytest.raises(NotaryMismatchError, match="output 0 names notary"):
        builder.sign(ISSUER.key).verify(ledger)


def test_builder_refuses_inputs_under_different_notaries(ledger):
    coins = issue(ledger, ALICE, 10)
    builder = TransactionBuilder(notary=OTHER_NOTARY.party)

    with pytest.raises(TransactionBuildError, match="change the state's notary"):
        builder.add_input_state(coins)


def test_spending_an_encumbered_state_without_its_encumbrance_is_refused(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(tokens(5), encumbrance=1)
    builder.add_output_state(tokens(7), encumbrance=0)
    builder.add_command(TokenIssue(), ISSUER.public_key)
    locked = ledger.record(builder.sign(ISSUER.key))
    spend = TransactionBuilder()
    spend.add_input_state(locked[0])
    spend.add_output_state(tokens(5, BOB))
    spend.add_command(TokenMove(), ALICE.public_key)

    with pytest.raises(EncumbranceError, match="must be spent with it"):
        spend.sign(ALICE.key, NOTARY.key).verify(ledger)


def test_spending_encumbered_states_together_is_accepted(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(tokens(5), encumbrance=1)
    builder.add_output_state(tokens(7), encumbrance=0)
    builder.add_command(TokenIssue(), ISSUER.public_key)
    locked = ledger.record(builder.sign(ISSUER.key))
    spend = TransactionBuilder()
    for state in locked:
        spend.add_input_state(state)
    spend.add_output_state(tokens(12, BOB))
    spend.add_command(TokenMove(), ALICE.public_key)

    spend.sign(ALICE.key, NOTARY.key).verify(ledger)


@pytest.mark.parametrize(
    ("encumbrances", "message"),
    [
        ((0,), "is itself"),
        ((3,), "does not exist"),
        ((1, None), "must in turn be encumbered"),
    ],
)
def test_output_encumbrances_must_point_at_an_encumbered_output(ledger, encumbrances, message):
    builder = TransactionBuilder(notary=NOTARY.party)
    for encumbrance in encumbrances:
        builder.add_output_state(tokens(5), encumbrance=encumbrance)
    builder.add_command(TokenIssue(), ISSUER.public_key)

    with pytest.raises(EncumbranceError, match=message):
        builder.sign(ISSUER.key).verify(ledger)


def test_hash_constraint_refuses_other_contract_code(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    other_code = cordapp_attachment("dlt").id
    builder.add_output_state(
        tokens(5), constraint=HashAttachmentConstraint(attachment_id=other_code)
    )
    builder.add_command(TokenIssue(), ISSUER.public_key)

    with pytest.raises(ConstraintError, match="HashAttachmentConstraint"):
        builder.sign(ISSUER.key).verify(ledger)


def test_signature_constraint_accepts_code_signed_by_the_publisher(ledger):
    publisher = Ed25519PrivateKey.from_seed(bytes([7]) * 32)
    ledger.attachments.import_attachment(cordapp_attachment("sample_cordapp").signed_by(publisher))
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(
        tokens(5), constraint=SignatureAttachmentConstraint(key=publisher.public_key)
    )
    builder.add_command(TokenIssue(), ISSUER.public_key)

    builder.sign(ISSUER.key).verify(ledger)


def test_signature_constraint_refuses_unsigned_code(ledger):
    publisher = Ed25519PrivateKey.from_seed(bytes([7]) * 32)
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(
        tokens(5), constraint=SignatureAttachmentConstraint(key=publisher.public_key)
    )
    builder.add_command(TokenIssue(), ISSUER.public_key)

    with pytest.raises(ConstraintError, match="SignatureAttachmentConstraint"):
        builder.sign(ISSUER.key).verify(ledger)


def test_transaction_without_the_installed_contract_code_is_refused(ledger):

    built = TransactionBuilder(notary=NOTARY.party)
    built.add_output_state(tokens(5))
    built.add_command(TokenIssue(), ISSUER.public_key)
    wtx = built.to_wire_transaction()
    stripped = WireTransaction.create(
        outputs=wtx.outputs,
        commands=wtx.commands,
        notary=wtx.notary,
        privacy_salt=wtx.privacy_salt,
    )

    with pytest.raises(ContractCodeMismatchError, match="different CorDapp versions"):
        SignedTransaction(stripped).sign(ISSUER.key).verify(ledger)


@serializable("test.platform.OrphanState")
class OrphanState(ContractState):
    """A state of a contract no CorDapp installs."""

    contract_name: ClassVar[str | None] = "nobody.Contract"

    holder: Party

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.holder,)


@serializable("test.platform.UnboundState")
class UnboundState(ContractState):
    """A state whose type forgot to say which contract it belongs to."""

    holder: Party

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.holder,)


def test_unknown_contract_is_refused_with_advice_to_install_it(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    with pytest.raises(UnknownContractError, match="not installed"):
        builder.add_output_state(OrphanState(holder=ALICE.party))


def test_a_state_type_that_declares_no_contract_cannot_be_added(ledger):
    builder = TransactionBuilder(notary=NOTARY.party)
    with pytest.raises(TransactionBuildError, match="UnboundState declares no contract"):
        builder.add_output_state(UnboundState(holder=ALICE.party))


def test_a_state_type_that_declares_no_contract_is_refused_on_verification(ledger):
    built = TransactionBuilder(notary=NOTARY.party)
    built.add_output_state(tokens(5))
    built.add_command(TokenIssue(), ISSUER.public_key)
    wtx = built.to_wire_transaction()
    unbound = wtx.outputs[0].model_copy(update={"data": UnboundState(holder=ALICE.party)})
    forged = WireTransaction.create(
        outputs=[unbound],
        commands=wtx.commands,
        attachments=wtx.attachments,
        notary=wtx.notary,
        privacy_salt=wtx.privacy_salt,
    )

    with pytest.raises(ContractBindingError, match="declares no contract"):
        SignedTransaction(forged).sign(ISSUER.key).verify(ledger)


def test_a_state_labelled_with_another_contract_is_refused_on_verification(ledger):
    built = TransactionBuilder(notary=NOTARY.party)
    built.add_output_state(tokens(5))
    built.add_command(TokenIssue(), ISSUER.public_key)
    wtx = built.to_wire_transaction()
    relabelled = wtx.outputs[0].model_copy(update={"contract": "nobody.Contract"})
    forged = WireTransaction.create(
        outputs=[relabelled],
        commands=wtx.commands,
        attachments=wtx.attachments,
        notary=wtx.notary,
        privacy_salt=wtx.privacy_salt,
    )

    with pytest.raises(ContractBindingError) as refused:
        SignedTransaction(forged).sign(ISSUER.key).verify(ledger)

    assert "output 0 is a test.TokenState labelled with contract nobody.Contract" in str(
        refused.value
    )
    assert "belongs to contract test.TokenContract" in str(refused.value)


def test_unknown_input_cannot_be_resolved(ledger):
    coins = issue(ledger, ALICE, 10)
    other_ledger = type(ledger)(cordapps=["sample_cordapp"])
    spend = TransactionBuilder()
    spend.add_input_state(coins)
    spend.add_output_state(tokens(10, BOB))
    spend.add_command(TokenMove(), ALICE.public_key)

    with pytest.raises(TransactionResolutionError, match="ResolveTransactionsFlow"):
        spend.sign(ALICE.key, NOTARY.key).verify(other_ledger)


def test_contract_code_raising_unexpectedly_is_reported_as_a_rejection(ledger, monkeypatch):
    from sample_cordapp import TokenContract

    def broken(self, tx):
        raise KeyError("oops")

    monkeypatch.setattr(TokenContract, "verify", broken)
    builder = TransactionBuilder(notary=NOTARY.party)
    builder.add_output_state(tokens(5))
    builder.add_command(TokenIssue(), ISSUER.public_key)

    with pytest.raises(ContractRejectedError, match="KeyError"):
        builder.sign(ISSUER.key).verify(ledger)
