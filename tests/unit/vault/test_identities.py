"""The identity store: keys to legal names, anonymous keys, certificate chains."""

from __future__ import annotations

import pytest

from dlt.identity import AnonymousParty
from dlt.vault import (
    IdentityConflictError,
    all_parties,
    certificate_chain,
    party_from_key,
    party_from_name,
    register_identity,
)
from fixtures.ledger import ALICE, BOB, NOTARY


@pytest.fixture
def register(database, clock):
    def register_(identity, cert_chain_pem=None):
        database.write_sync(
            lambda s: register_identity(
                s, identity, registered_at=clock.advance(1), cert_chain_pem=cert_chain_pem
            )
        )

    return register_


def test_a_registered_party_is_found_by_key_and_by_name(register, database):
    register(ALICE.party)

    assert database.read_sync(lambda s: party_from_key(s, ALICE.public_key)) == ALICE.party
    assert database.read_sync(lambda s: party_from_name(s, str(ALICE.name))) == ALICE.party


def test_unknown_keys_and_names_are_not_found(database):
    assert database.read_sync(lambda s: party_from_key(s, BOB.public_key)) is None
    assert database.read_sync(lambda s: party_from_name(s, BOB.name)) is None


def test_an_anonymous_key_has_no_party_until_its_owner_is_registered(register, database):
    register(AnonymousParty(owning_key=BOB.public_key))
    assert database.read_sync(lambda s: party_from_key(s, BOB.public_key)) is None

    register(BOB.party)

    assert database.read_sync(lambda s: party_from_key(s, BOB.public_key)) == BOB.party


def test_a_key_cannot_be_registered_under_a_second_name(register):
    register(ALICE.party)
    impostor = BOB.party.model_copy(update={"owning_key": ALICE.public_key})

    with pytest.raises(IdentityConflictError, match="is registered to O=Alice Solar"):
        register(impostor)


def test_all_parties_lists_named_parties_by_name_without_anonymous_keys(register, database):
    register(NOTARY.party)
    register(BOB.party)
    register(AnonymousParty(owning_key=ALICE.public_key))

    parties = database.read_sync(all_parties)

    assert [str(p.name) for p in parties] == [str(BOB.name), str(NOTARY.name)]


def test_a_certificate_chain_is_kept_and_replaced_by_a_newer_one(register, database):
    register(ALICE.party, "-----BEGIN CERTIFICATE-----\nold\n")
    register(ALICE.party, "-----BEGIN CERTIFICATE-----\nnew\n")

    chain = database.read_sync(lambda s: certificate_chain(s, ALICE.public_key))

    assert chain == "-----BEGIN CERTIFICATE-----\nnew\n"
