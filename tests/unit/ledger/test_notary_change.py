"""A notary-change transaction changes the notary and nothing else."""

from __future__ import annotations

import pytest

from dlt.ledger import (
    Command,
    NotaryChange,
    NotaryMismatchError,
    SignedTransaction,
    WireTransaction,
)
from dlt.testing import test_identity
from fixtures.ledger import ALICE, NOTARY, issue

NEW_NOTARY = test_identity("O=Second Notary, L=Paris, C=FR")
SALT = bytes(range(7, 39))


def change(coins, *, outputs=None, signers=None, new_notary=NEW_NOTARY.party):
    wtx = WireTransaction.create(
        inputs=[coins.ref],
        outputs=outputs or [coins.state.model_copy(update={"notary": new_notary})],
        commands=[
            Command(
                value=NotaryChange(new_notary=new_notary), signers=signers or (ALICE.public_key,)
            )
        ],
        notary=NOTARY.party,
        privacy_salt=SALT,
    )
    return SignedTransaction(wtx).sign(ALICE.key).sign(NOTARY.key)


def test_moving_states_to_another_notary_verifies_without_running_contracts(ledger):
    coins = issue(ledger, ALICE, 10)

    ledger_tx = change(coins).verify(ledger)

    assert ledger_tx.outputs[0].notary == NEW_NOTARY.party
    assert ledger_tx.outputs[0].data == coins.state.data


def test_changing_anything_but_the_notary_is_refused(ledger):
    coins = issue(ledger, ALICE, 10)
    tampered = coins.state.model_copy(
        update={
            "notary": NEW_NOTARY.party,
            "data": coins.state.data.model_copy(update={"amount": 99}),
        }
    )

    with pytest.raises(NotaryMismatchError, match="only the notary changed"):
        change(coins, outputs=[tampered]).verify(ledger)


def test_every_participant_must_sign_a_notary_change(ledger):
    coins = issue(ledger, ALICE, 10)

    with pytest.raises(NotaryMismatchError, match="must sign the notary change"):
        change(coins, signers=(NOTARY.public_key,)).verify(ledger, check_signatures=False)


def test_a_notary_change_to_the_same_notary_is_refused(ledger):
    coins = issue(ledger, ALICE, 10)

    with pytest.raises(NotaryMismatchError, match="another notary"):
        change(coins, new_notary=NOTARY.party).verify(ledger)
