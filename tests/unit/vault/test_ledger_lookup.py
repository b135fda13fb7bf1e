"""Resolving and verifying transactions from what the database holds."""

from __future__ import annotations

import pytest

from dlt.ledger import TransactionResolutionError, cordapp_attachment
from dlt.vault import register_identity, store_attachment
from fixtures.ledger import ALICE, BOB, ISSUER, NOTARY
from fixtures.vault import issuance, move, outputs_of


@pytest.fixture
def node_data(database, clock):
    """The token CorDapp's code attachment and the parties, as a node would hold them."""

    def work(session):
        store_attachment(session, cordapp_attachment("sample_cordapp"), uploaded_at=clock.now)
        for identity in (ALICE, BOB, ISSUER, NOTARY):
            register_identity(session, identity.party, registered_at=clock.now)

    database.write_sync(work)


def test_a_transfer_verifies_against_the_stored_issuance(node_data, record, database, vault):
    issued = issuance(ALICE, 100)
    record(issued)
    spend = move(outputs_of(issued), [(BOB, 100)], signers=[ALICE])

    ledger_tx = database.read_sync(lambda s: spend.verify(vault.ledger_lookup(s)))

    assert ledger_tx.inputs == tuple(outputs_of(issued))
    assert ledger_tx.commands[0].signing_parties == (ALICE.party,)


def test_outputs_that_were_never_ours_still_resolve(node_data, record, database, vault):
    bobs = issuance(BOB, 5)
    record(bobs)

    state = database.read_sync(lambda s: vault.ledger_lookup(s).load_state(outputs_of(bobs)[0].ref))

    assert state == bobs.tx.outputs[0]


def test_a_transfer_of_an_unknown_state_fails_to_resolve_naming_it(node_data, database, vault):
    unknown = outputs_of(issuance(ALICE, 100))
    spend = move(unknown, [(BOB, 100)], signers=[ALICE])

    with pytest.raises(TransactionResolutionError, match=str(unknown[0].ref)):
        database.read_sync(lambda s: spend.verify(vault.ledger_lookup(s)))


def test_an_output_index_past_the_end_resolves_to_nothing(record, database, vault):
    issued = issuance(ALICE, 1)
    record(issued)
    past_the_end = outputs_of(issued)[0].ref.model_copy(update={"index": 1})

    assert database.read_sync(lambda s: vault.ledger_lookup(s).load_state(past_the_end)) is None
