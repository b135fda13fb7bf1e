"""A state is verified by the contract it belongs to, never by one a transaction names for it.

The attack: a consumer outputs a PaymentState of the bank's money labelled with the energy
contract, which checks energy and not money, so the bank's signature is never asked for; then
it spends that money in a delivery-versus-payment the producer would accept.
"""

from __future__ import annotations

import pytest

from cordapp_energy import (
    ENERGY_CONTRACT,
    PAYMENT_CONTRACT,
    IssuePayment,
    Pay,
    Request,
    Settle,
    SignerViolation,
    energy_cost,
)
from dlt.ledger import (
    ContractBindingError,
    ContractRejectedError,
    SignedTransaction,
    StateAndRef,
    StateRef,
    WireTransaction,
)
from dlt.testing import InMemoryLedger

from .support import (
    BANK,
    CONSUMER,
    PRODUCER,
    builder,
    energy,
    issue_energy,
    issue_money,
    money,
    sign,
)

FORGED_AMOUNT = 10**9
TRADE = Settle(seller=PRODUCER.party, buyer=CONSUMER.party, quantity_wh=1_500, price_per_kwh=20)


def forged_issuance() -> SignedTransaction:
    """Energy the consumer may issue itself, plus the bank's money under the energy contract."""
    honest = builder().add_output_state(energy(1_000, owner=CONSUMER, issuer=CONSUMER))
    honest.add_output_state(money(FORGED_AMOUNT, CONSUMER.party))
    honest.add_command(Request(), CONSUMER.public_key)
    wtx = honest.to_wire_transaction()
    mislabelled = wtx.outputs[1].model_copy(update={"contract": ENERGY_CONTRACT})
    forged = WireTransaction.create(
        outputs=[wtx.outputs[0], mislabelled],
        commands=wtx.commands,
        attachments=wtx.attachments,
        notary=wtx.notary,
        privacy_salt=wtx.privacy_salt,
    )
    return SignedTransaction(forged).sign(CONSUMER.key)


def dvp_spending(forgery: SignedTransaction, ledger: InMemoryLedger) -> SignedTransaction:
    """The producer's energy for the forged money: a trade the producer would sign."""
    source = issue_energy(ledger, energy(4_000))
    cash = StateAndRef(state=forgery.tx.outputs[1], ref=StateRef(txhash=forgery.id, index=1))
    cost = energy_cost(1_500, 20)
    tx = builder().add_input_state(source).add_input_state(cash)
    tx.add_output_state(energy(1_500, owner=CONSUMER)).add_output_state(energy(2_500))
    tx.add_output_state(money(cost, PRODUCER.party))
    tx.add_output_state(money(FORGED_AMOUNT - cost, CONSUMER.party))
    settle = Settle(
        seller=PRODUCER.party, buyer=CONSUMER.party, quantity_wh=1_500, price_per_kwh=20
    )
    tx.add_command(settle, PRODUCER.public_key, CONSUMER.public_key)
    tx.add_command(Pay(), CONSUMER.public_key)
    return sign(tx)


def test_money_issued_under_the_energy_contract_is_refused(ledger):
    forgery = forged_issuance()

    with pytest.raises(ContractBindingError) as refused:
        forgery.verify(ledger)

    message = str(refused.value)
    assert f"output 1 is a energy.PaymentState labelled with contract {ENERGY_CONTRACT}" in message
    assert f"belongs to contract {PAYMENT_CONTRACT}" in message


def test_a_settlement_spending_mislabelled_money_is_refused(ledger):
    forgery = forged_issuance()
    ledger.record(forgery)  # the attacker's own vault, which skipped verification
    dvp = dvp_spending(forgery, ledger)

    with pytest.raises(ContractBindingError) as refused:
        dvp.verify(ledger)

    assert f"input {forgery.id}:1 is a energy.PaymentState" in str(refused.value)
    assert f"belongs to contract {PAYMENT_CONTRACT}" in str(refused.value)


def test_the_same_money_under_its_own_contract_needs_the_banks_signature(ledger):
    honest = builder(with_rules=False).add_output_state(money(FORGED_AMOUNT, CONSUMER.party))
    honest.add_command(IssuePayment(), CONSUMER.public_key)
    stx = SignedTransaction(honest.to_wire_transaction()).sign(CONSUMER.key)

    with pytest.raises(ContractRejectedError) as refused:
        stx.verify(ledger)

    assert refused.value.contract == PAYMENT_CONTRACT
    assert isinstance(refused.value.__cause__, SignerViolation)
    assert str(BANK.party.name) in refused.value.reason


def test_an_honest_settlement_in_the_banks_money_is_accepted(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)
    source = issue_energy(ledger, energy(4_000))
    cost = energy_cost(1_500, 20)
    tx = builder().add_input_state(source).add_input_state(cash)
    tx.add_output_state(energy(1_500, owner=CONSUMER)).add_output_state(energy(2_500))
    tx.add_output_state(money(cost, PRODUCER.party))
    tx.add_output_state(money(1_000 - cost, CONSUMER.party))
    settle = Settle(
        seller=PRODUCER.party, buyer=CONSUMER.party, quantity_wh=1_500, price_per_kwh=20
    )
    tx.add_command(settle, PRODUCER.public_key, CONSUMER.public_key)
    tx.add_command(Pay(), CONSUMER.public_key)

    sign(tx).verify(ledger)
