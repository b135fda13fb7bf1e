"""The notary's wire types: stable encodings, signed requests and checkable conflict evidence."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dlt.crypto import InvalidSignatureError, SecureHash
from dlt.encoding import decode, encode, type_name_of
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    General,
    NotarisationPayload,
    NotarisationRequest,
    NotarisationResponse,
    NotaryException,
    Refusal,
    RequestSignatureInvalid,
    SignedRefusal,
    StateConsumptionDetails,
    TimeWindowInvalid,
    TransactionInvalid,
    WrongNotary,
    sign_refusal,
    sign_request,
    verify_request_signature,
)
from dlt.ledger import SignedTransaction, notary_view, sign_transaction_id
from fixtures.ledger import ALICE, BOB, NOTARY

from .support import NOW, WITHIN_AN_HOUR, make_tx, state, submission

CONSUMER = SecureHash.sha256(b"the transaction that got there first")
REFUSED = SecureHash.sha256(b"refused")


def conflict(kind: ConsumedStateKind = ConsumedStateKind.INPUT) -> Conflict:
    return Conflict(
        tx_id=REFUSED,
        consumed={
            str(state(1)): StateConsumptionDetails(consuming_tx_id=CONSUMER, kind=kind),
        },
    )


MESSAGES: dict[str, Callable[[], object]] = {
    "request": lambda: submission(make_tx([state(1)], [state(2)])).request,
    "request signature": lambda: submission(make_tx([state(1)])).signature,
    "filtered payload": lambda: NotarisationPayload.non_validating(
        notary_view(make_tx([state(1)]))
    ),
    "signed payload": lambda: NotarisationPayload.validating(
        SignedTransaction(make_tx([state(1)])).sign(ALICE.key)
    ),
    "response": lambda: NotarisationResponse(
        signatures=(sign_transaction_id(NOTARY.key, SecureHash.sha256(b"tx")),)
    ),
    "signed conflict": lambda: sign_refusal(NOTARY.key, REFUSED, conflict()),
    "signed refusal": lambda: sign_refusal(NOTARY.key, REFUSED, General(message="disk full")),
    "time window invalid": lambda: TimeWindowInvalid(current_time=NOW, window=WITHIN_AN_HOUR),
    "transaction invalid": lambda: TransactionInvalid(reason="inputs hidden"),
    "request signature invalid": lambda: RequestSignatureInvalid(reason="wrong key"),
    "wrong notary": lambda: WrongNotary(named=BOB.party, contacted=NOTARY.party),
    "general": lambda: General(message="disk full"),
}


@pytest.mark.parametrize("make", MESSAGES.values(), ids=MESSAGES.keys())
def test_every_message_round_trips_under_a_stable_notary_type_name(make):
    message = make()

    decoded = decode(encode(message))

    assert type(decoded) is type(message)
    assert encode(decoded) == encode(message)
    assert type_name_of(type(message)) == f"notary.{type(message).__name__}"


def test_a_payload_carries_exactly_one_transaction():
    tx = make_tx([state(1)])

    with pytest.raises(ValueError, match="either a filtered or a signed"):
        NotarisationPayload()
    with pytest.raises(ValueError, match="either a filtered or a signed"):
        NotarisationPayload(filtered=notary_view(tx), signed=SignedTransaction(tx))


def test_a_request_signed_by_the_requesting_party_verifies():
    sent = submission(make_tx([state(1)]))

    verify_request_signature(sent.request, sent.signature)


def test_a_request_signed_by_another_party_is_refused():
    request = submission(make_tx([state(1)]), requester=ALICE).request

    with pytest.raises(NotaryException) as refused:
        verify_request_signature(request, sign_request(BOB.key, request))

    assert isinstance(refused.value.error, RequestSignatureInvalid)
    assert "not a key of the requesting party" in str(refused.value)


def test_a_request_altered_after_signing_is_refused():
    sent = submission(make_tx([state(1)]))
    altered = NotarisationRequest(
        tx_id=sent.request.tx_id,
        requesting_party=sent.request.requesting_party,
        inputs=(state(9),),
    )

    with pytest.raises(NotaryException) as refused:
        verify_request_signature(altered, sent.signature)

    assert isinstance(refused.value.error, RequestSignatureInvalid)
    assert "does not verify" in str(refused.value)


def test_a_signed_conflict_verifies_against_the_notary_that_signed_it():
    evidence = decode(encode(sign_refusal(NOTARY.key, REFUSED, conflict())), SignedRefusal)

    assert evidence.verify(NOTARY.party, REFUSED) == conflict()


def test_a_conflict_altered_after_signing_does_not_verify():
    evidence = sign_refusal(NOTARY.key, REFUSED, conflict())
    forged = SignedRefusal(
        refusal=Refusal(tx_id=REFUSED, error=conflict(ConsumedStateKind.REFERENCE)),
        by=evidence.by,
        signature=evidence.signature,
    )

    with pytest.raises(InvalidSignatureError, match="valid signature"):
        forged.verify()


def test_a_conflict_signed_by_someone_other_than_the_notary_proves_nothing():
    evidence = sign_refusal(BOB.key, REFUSED, conflict())

    with pytest.raises(InvalidSignatureError, match="not a key of notary"):
        evidence.verify(NOTARY.party)


def test_a_refusal_of_another_transaction_proves_nothing_about_this_one():
    evidence = sign_refusal(NOTARY.key, REFUSED, TransactionInvalid(reason="bad"))

    with pytest.raises(InvalidSignatureError, match="not the transaction"):
        evidence.verify(NOTARY.party, CONSUMER)


def test_a_refusal_cannot_carry_a_conflict_about_another_transaction():
    with pytest.raises(ValueError, match="carries a conflict about transaction"):
        Refusal(tx_id=CONSUMER, error=conflict())
