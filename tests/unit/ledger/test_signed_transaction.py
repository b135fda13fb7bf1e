"""Signatures over a transaction id, single and batched, and the required-signer check."""

from __future__ import annotations

import pytest

from dlt.crypto import Ed25519PrivateKey, PublicKey
from dlt.crypto.composite import CompositeKey
from dlt.encoding import decode, encode
from dlt.identity import Party, X500Name
from dlt.ledger import (
    InvalidTransactionSignatureError,
    SignaturesMissingError,
    SignedTransaction,
    sign_batch,
    sign_transaction_id,
)
from dlt.testing import test_identity
from fixtures.ledger import ALICE, BOB, NOTARY

from .test_wire_transaction import ref, transfer


def test_all_required_signatures_verify():
    tx = transfer()
    stx = SignedTransaction(tx).sign(ALICE.key).sign(NOTARY.key)

    stx.verify_signatures()

    assert stx.missing_signers() == frozenset()


def test_missing_signers_are_reported_by_key():
    stx = SignedTransaction(transfer()).sign(ALICE.key)

    with pytest.raises(SignaturesMissingError) as caught:
        stx.verify_signatures()

    assert caught.value.missing == {NOTARY.public_key}


def test_allowed_missing_signer_is_not_reported():
    stx = SignedTransaction(transfer()).sign(ALICE.key)

    stx.verify_signatures(allowed_to_be_missing=[NOTARY.public_key])


def test_a_signature_over_another_transaction_is_refused():
    other = transfer(inputs=[ref(3)])
    stx = SignedTransaction(transfer(), [sign_transaction_id(ALICE.key, other.id)])

    with pytest.raises(InvalidTransactionSignatureError):
        stx.verify_signatures(allowed_to_be_missing=[ALICE.public_key, NOTARY.public_key])


def test_a_signature_by_an_unrequired_key_is_accepted_but_does_not_count():
    stx = SignedTransaction(transfer()).sign(BOB.key).sign(NOTARY.key)

    with pytest.raises(SignaturesMissingError) as caught:
        stx.verify_signatures()

    assert caught.value.missing == {ALICE.public_key}


def test_adding_signatures_keeps_the_id_and_drops_duplicates():
    tx = transfer()
    stx = SignedTransaction(tx).sign(ALICE.key)

    again = stx.with_signatures(*stx.sigs).sign(NOTARY.key)

    assert again.id == tx.id
    assert len(again.sigs) == 2


def test_batch_signature_proves_each_transaction_in_the_batch():
    txs = [transfer(inputs=[ref(i)]) for i in range(5)]

    signatures = sign_batch(NOTARY.key, [tx.id for tx in txs])

    assert len({sig.signature for sig in signatures}) == 1
    for tx, sig in zip(txs, signatures, strict=True):
        sig.verify(tx.id)
        assert not sig.is_valid(txs[0].id) or tx is txs[0]


def test_batch_signature_does_not_verify_for_a_transaction_outside_the_batch():
    txs = [transfer(inputs=[ref(i)]) for i in range(3)]
    outsider = transfer(inputs=[ref(9)])

    signatures = sign_batch(NOTARY.key, [tx.id for tx in txs])

    assert not any(sig.is_valid(outsider.id) for sig in signatures)


def test_notary_cluster_composite_key_is_fulfilled_by_a_quorum_of_replicas():
    replicas = [test_identity(f"O=Replica {i}, L=London, C=GB") for i in range(4)]
    cluster_key = CompositeKey.build([r.public_key for r in replicas], threshold=3)
    cluster = Party(name=X500Name.parse("O=Notary Cluster, L=London, C=GB"), owning_key=cluster_key)
    stx = SignedTransaction(transfer(notary=cluster)).sign(ALICE.key)
    two = stx.sign(replicas[0].key).sign(replicas[1].key)
    three = two.sign(replicas[3].key)

    assert two.missing_signers() == {cluster_key}
    three.verify_signatures()


def test_signed_transaction_round_trips_through_its_encoding():
    stx = SignedTransaction(transfer()).sign(ALICE.key).sign(NOTARY.key)

    decoded = decode(encode(stx), SignedTransaction)

    assert decoded == stx
    decoded.verify_signatures()


def test_a_signature_is_checked_once_however_many_copies_of_the_transaction_carry_it(
    monkeypatch: pytest.MonkeyPatch,
):
    tx = transfer()
    signer = Ed25519PrivateKey.generate()  # a signature no earlier test has checked
    signature = sign_transaction_id(signer, tx.id)
    checks: list[bytes] = []
    real = type(signer.public_key).is_valid

    def counted(key: PublicKey, sig: bytes, data: bytes) -> bool:
        checks.append(sig)
        return real(key, sig, data)

    monkeypatch.setattr(type(signer.public_key), "is_valid", counted)
    everyone = [ALICE.public_key, NOTARY.public_key]
    SignedTransaction(tx, [signature]).verify_signatures(allowed_to_be_missing=everyone)
    copy = decode(encode(SignedTransaction(tx, [signature]).sign(NOTARY.key)), SignedTransaction)
    copy.verify_signatures(allowed_to_be_missing=everyone)

    assert checks.count(signature.signature) == 1


def test_a_checked_signature_still_proves_nothing_for_another_transaction_or_when_altered():
    tx, other = transfer(), transfer(inputs=[ref(3)])
    signature = sign_transaction_id(ALICE.key, tx.id)
    signature.verify(tx.id)
    altered = signature.model_copy(
        update={"signature": bytes([signature.signature[0] ^ 1]) + signature.signature[1:]}
    )

    with pytest.raises(InvalidTransactionSignatureError):
        signature.verify(other.id)
    with pytest.raises(InvalidTransactionSignatureError):
        altered.verify(tx.id)


@pytest.mark.parametrize("borrowing", ["claimed by another key", "other metadata", "other proof"])
def test_a_party_with_its_own_key_cannot_borrow_a_checked_signature(borrowing: str):
    txs = [transfer(inputs=[ref(i)]) for i in range(2)]
    checked = sign_batch(NOTARY.key, [tx.id for tx in txs])
    for tx, signature in zip(txs, checked, strict=True):
        signature.verify(tx.id)  # both now known valid
    original = checked[0]
    update = {
        "claimed by another key": {"by": BOB.public_key},
        "other metadata": {"metadata": original.metadata.model_copy(update={"scheme": "x"})},
        "other proof": {"batch_proof": checked[1].batch_proof},
    }[borrowing]
    borrowed = original.model_copy(update=update)

    with pytest.raises(InvalidTransactionSignatureError):
        borrowed.verify(txs[0].id)
