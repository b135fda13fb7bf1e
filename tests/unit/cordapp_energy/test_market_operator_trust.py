"""Who the market operator is comes from the network parameters a transaction pins, never
from the rules themselves: otherwise anyone could name itself operator, sign rules with
prices and limits of its choosing, and have every contract accept them."""

from __future__ import annotations

from cordapp_energy import MARKET_RULES_SIGNERS, MarketRulesViolation, Request
from dlt.ledger import NetworkParameters
from dlt.testing import test_identity

from .support import (
    NEIGHBOUR,
    OPERATOR,
    PARAMETERS,
    PRODUCER,
    RULES,
    builder,
    commit,
    energy,
    rejection,
)

ROGUE = test_identity("O=Rogue Market, L=Cardiff, C=GB")
ROGUE_RULES = RULES.model_copy(update={"market_operator": ROGUE.party})
ROGUE_ATTACHMENT = ROGUE_RULES.to_attachment(ROGUE.key)


def issue(tx):
    return tx.add_output_state(energy(4_000)).add_command(Request(), PRODUCER.public_key)


def test_rules_signed_by_the_operator_the_parameters_name_are_accepted(ledger):
    commit(ledger, issue(builder()))


def test_rules_signed_by_an_operator_the_parameters_do_not_name_are_refused(ledger):
    ledger.attachments.import_attachment(ROGUE_ATTACHMENT)
    tx = issue(builder(with_rules=False).add_attachment(ROGUE_ATTACHMENT.id))

    error = rejection(ledger, tx)

    assert isinstance(error.__cause__, MarketRulesViolation)
    assert f"signed by {ROGUE.party.name}" in error.reason
    assert f"do not trust for {MARKET_RULES_SIGNERS}" in error.reason


def test_a_transaction_pinning_no_network_parameters_is_refused(ledger):
    tx = issue(builder(parameters=None))

    error = rejection(ledger, tx)

    assert "no network parameters are pinned" in error.reason


def test_parameters_that_name_no_market_operator_trust_no_rules(ledger):
    silent = NetworkParameters(epoch=2)
    ledger.accept_parameters(silent)

    error = rejection(ledger, issue(builder(parameters=silent)))

    assert f"trust no key for {MARKET_RULES_SIGNERS}" in error.reason


def test_parameters_naming_another_operator_refuse_the_old_operators_rules(ledger):
    moved = PARAMETERS.model_copy(
        update={"epoch": 2, "trusted_signers": {MARKET_RULES_SIGNERS: (NEIGHBOUR.public_key,)}}
    )
    ledger.accept_parameters(moved)

    error = rejection(ledger, issue(builder(parameters=moved)))

    assert f"signed by {OPERATOR.party.name}" in error.reason
