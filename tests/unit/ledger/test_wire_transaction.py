"""The transaction id commits to every component, the salt and the order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.crypto import SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import (
    AlwaysAcceptAttachmentConstraint,
    Command,
    ComponentGroup,
    MalformedTransactionError,
    StateRef,
    TimeWindow,
    TransactionState,
    WireTransaction,
)
from fixtures.ledger import ALICE, BOB, ISSUER, NOTARY
from sample_cordapp import TOKEN_CONTRACT, TokenMove, TokenState

SALT = bytes(range(1, 33))


def token(amount: int, owner=ALICE) -> TransactionState:
    return TransactionState(
        data=TokenState(issuer=ISSUER.party, owner=owner.party, amount=amount),
        contract=TOKEN_CONTRACT,
        notary=NOTARY.party,
        constraint=AlwaysAcceptAttachmentConstraint(),
    )


def ref(n: int) -> StateRef:
    return StateRef(txhash=SecureHash.sha256(bytes([n])), index=n % 3)


def transfer(**overrides) -> WireTransaction:
    parts = {
        "inputs": [ref(1), ref(2)],
        "outputs": [token(60), token(40, BOB)],
        "commands": [Command(value=TokenMove(), signers=(ALICE.public_key,))],
        "attachments": [SecureHash.sha256(b"code")],
        "notary": NOTARY.party,
        "time_window": TimeWindow.between(
            datetime(2026, 6, 1, 12, tzinfo=UTC), datetime(2026, 6, 1, 13, tzinfo=UTC)
        ),
        "privacy_salt": SALT,
    }
    parts.update(overrides)
    return WireTransaction.create(**parts)


def test_same_components_and_salt_give_the_same_id():
    assert transfer().id == transfer().id


def test_id_changes_with_the_salt():
    assert transfer().id != transfer(privacy_salt=bytes(range(2, 34))).id


def test_id_changes_when_outputs_are_reordered():
    assert transfer().id != transfer(outputs=[token(40, BOB), token(60)]).id


def test_id_changes_when_inputs_are_reordered():
    assert transfer().id != transfer(inputs=[ref(2), ref(1)]).id


@settings(max_examples=40, deadline=None)
@given(
    group=st.sampled_from(list(ComponentGroup)),
    data=st.data(),
)
def test_id_changes_when_any_component_byte_changes(group, data):
    tx = transfer(references=[ref(7)], network_parameters_hash=SecureHash.sha256(b"params"))
    components = tx.components(group)
    index = data.draw(st.integers(0, len(components) - 1), label="component")
    position = data.draw(st.integers(0, len(components[index]) - 1), label="byte")
    tampered = bytearray(components[index])
    tampered[position] ^= 0x01
    groups = {g: list(tx.components(g)) for g in ComponentGroup}
    groups[group][index] = bytes(tampered)
    try:
        other = WireTransaction(groups, SALT)
    except (MalformedTransactionError, ValueError):
        return  # tampering that breaks decoding is refused outright, which is also fine
    assert other.id != tx.id


def test_id_is_the_merkle_root_of_group_roots_with_zero_for_empty_groups():
    from dlt.crypto.merkle import merkle_root

    tx = transfer()

    assert tx.group_roots[ComponentGroup.REFERENCES] == SecureHash.ZERO
    assert tx.id == merkle_root(tx.group_roots)


def test_wire_transaction_round_trips_through_its_encoding():
    tx = transfer(references=[ref(9)])

    decoded = decode(encode(tx), WireTransaction)

    assert decoded.id == tx.id
    assert decoded.outputs == tx.outputs
    assert decoded.commands == tx.commands
    assert decoded.time_window == tx.time_window


def test_required_signers_are_command_signers_and_the_notary():
    assert transfer().required_signing_keys == {ALICE.public_key, NOTARY.public_key}


def test_issuance_without_inputs_or_time_window_does_not_need_the_notary():
    tx = transfer(inputs=[], time_window=None)

    assert tx.required_signing_keys == {ALICE.public_key}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"commands": []}, "at least one command"),
        ({"inputs": [], "outputs": []}, "inputs or outputs"),
        ({"notary": None}, "must name a notary"),
        ({"inputs": [ref(1), ref(1)]}, "same input twice"),
        ({"references": [ref(1)]}, "both an input and a reference"),
        ({"privacy_salt": bytes(32)}, "all zero"),
        ({"privacy_salt": b"short"}, "32 bytes"),
    ],
)
def test_malformed_transactions_are_refused_with_a_reason(overrides, message):
    with pytest.raises((MalformedTransactionError, ValueError), match=message):
        transfer(**overrides)


def test_a_component_of_an_unregistered_type_is_refused():
    groups = {g: list(transfer().components(g)) for g in ComponentGroup}
    groups[ComponentGroup.OUTPUTS][0] = encode({"not": "a state"})

    with pytest.raises(MalformedTransactionError, match="OUTPUTS"):
        WireTransaction(groups, SALT)
