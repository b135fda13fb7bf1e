"""States and references to them: parsing, encoding, ownership and immutability."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dlt.crypto import SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import (
    AlwaysAcceptAttachmentConstraint,
    ContractState,
    HashAttachmentConstraint,
    OwnableState,
    StateAndRef,
    StateRef,
    TransactionState,
    UniqueIdentifier,
)
from fixtures.ledger import ALICE, BOB, ISSUER, NOTARY
from sample_cordapp import TOKEN_CONTRACT, TokenState

TX_HASH = SecureHash.sha256(b"a transaction")


def tokens(amount: int = 10) -> TokenState:
    return TokenState(issuer=ISSUER.party, owner=ALICE.party, amount=amount)


def transaction_state(**overrides) -> TransactionState:
    parts = {
        "data": tokens(),
        "contract": TOKEN_CONTRACT,
        "notary": NOTARY.party,
        "constraint": AlwaysAcceptAttachmentConstraint(),
    }
    parts.update(overrides)
    return TransactionState(**parts)


# -- StateRef -----------------------------------------------------------------------------


def test_a_state_ref_prints_as_hash_colon_index():
    assert str(StateRef(txhash=TX_HASH, index=3)) == f"{TX_HASH}:3"


def test_a_state_ref_parses_back_from_its_text():
    ref = StateRef(txhash=TX_HASH, index=12)

    assert StateRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    "text",
    [
        str(TX_HASH),
        f"{TX_HASH}:",
        f"{TX_HASH}:-1",
        f"{TX_HASH}:one",
        f"{TX_HASH}:1.5",
        f"{str(TX_HASH)[:10]}:1",
        f"not-hex-{'0' * 56}:1",
        "",
    ],
    ids=[
        "no-index",
        "empty-index",
        "negative-index",
        "word-index",
        "fractional-index",
        "short-hash",
        "non-hex-hash",
        "empty",
    ],
)
def test_malformed_state_ref_text_is_refused(text):
    with pytest.raises(ValueError):
        StateRef.parse(text)


def test_a_negative_index_is_refused():
    with pytest.raises(ValidationError):
        StateRef(txhash=TX_HASH, index=-1)


def test_state_refs_are_hashable_values():
    assert {StateRef(txhash=TX_HASH, index=0), StateRef(txhash=TX_HASH, index=0)} == {
        StateRef(txhash=TX_HASH, index=0)
    }


# -- encodings ----------------------------------------------------------------------------


def test_a_transaction_state_round_trips_through_its_encoding():
    state = transaction_state(
        encumbrance=1, constraint=HashAttachmentConstraint(attachment_id=TX_HASH)
    )

    decoded = decode(encode(state), TransactionState)

    assert decoded == state
    assert isinstance(decoded.data, TokenState)
    assert isinstance(decoded.constraint, HashAttachmentConstraint)


def test_a_state_and_ref_round_trips_through_its_encoding():
    state_and_ref = StateAndRef(state=transaction_state(), ref=StateRef(txhash=TX_HASH, index=1))

    assert decode(encode(state_and_ref), StateAndRef) == state_and_ref


def test_a_negative_encumbrance_is_refused():
    with pytest.raises(ValidationError):
        transaction_state(encumbrance=-1)


# -- ownership ----------------------------------------------------------------------------


def test_with_new_owner_returns_a_copy_owned_by_the_new_owner():
    original = tokens(25)

    moved = original.with_new_owner(BOB.party)

    assert moved.owner == BOB.party
    assert (moved.issuer, moved.amount) == (ISSUER.party, 25)
    assert original.owner == ALICE.party


def test_with_new_owner_keeps_the_state_class():
    assert type(tokens().with_new_owner(BOB.party)) is TokenState


def test_a_state_can_be_owned_anonymously():
    anonymous = ALICE.party.anonymise()

    state = tokens().with_new_owner(anonymous)

    assert decode(encode(state), TokenState).owner == anonymous


# -- UniqueIdentifier ---------------------------------------------------------------------


def test_unique_identifier_from_the_same_bytes_is_the_same():
    random16 = bytes(range(16))

    assert UniqueIdentifier.from_bytes(random16) == UniqueIdentifier.from_bytes(random16)
    assert UniqueIdentifier.from_bytes(random16).id == "000102030405060708090a0b0c0d0e0f"


def test_unique_identifiers_from_different_bytes_differ():
    assert UniqueIdentifier.from_bytes(bytes(16)) != UniqueIdentifier.from_bytes(bytes([1]) * 16)


def test_unique_identifier_needs_sixteen_bytes():
    with pytest.raises(ValueError):
        UniqueIdentifier.from_bytes(bytes(15))


def test_unique_identifier_prints_its_external_id_first():
    identifier = UniqueIdentifier.from_bytes(bytes(16), external_id="order-7")

    assert str(identifier) == f"order-7_{'0' * 32}"


def test_unique_identifier_refuses_an_id_that_is_not_32_hex_digits():
    with pytest.raises(ValidationError):
        UniqueIdentifier(id="ABC")


# -- the sample token state ---------------------------------------------------------------


def test_a_token_state_is_an_ownable_contract_state():
    state = tokens()

    assert isinstance(state, ContractState)
    assert isinstance(state, OwnableState)
    assert TokenState.contract_name == TOKEN_CONTRACT


def test_a_token_states_participants_are_its_owner():
    assert tokens().participants == (ALICE.party,)


def test_a_token_state_exposes_its_fields():
    state = tokens(42)

    assert (state.issuer, state.owner, state.amount) == (ISSUER.party, ALICE.party, 42)


def test_a_token_state_refuses_unknown_fields():
    with pytest.raises(ValidationError, match="extra"):
        TokenState(issuer=ISSUER.party, owner=ALICE.party, amount=1, colour="green")


def test_a_contract_state_without_participants_cannot_be_built():
    class Incomplete(ContractState):
        value: int

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(value=1)


@pytest.mark.parametrize(
    ("value", "field", "new"),
    [
        (tokens(), "amount", 99),
        (StateRef(txhash=TX_HASH, index=0), "index", 1),
        (transaction_state(), "contract", "other.Contract"),
        (UniqueIdentifier.from_bytes(bytes(16)), "external_id", "x"),
    ],
    ids=["token-state", "state-ref", "transaction-state", "unique-identifier"],
)
def test_ledger_values_are_frozen(value, field, new):
    with pytest.raises(ValidationError, match="frozen"):
        setattr(value, field, new)
