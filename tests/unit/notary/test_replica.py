"""A notary replica signs each transaction once its inputs are unspent, and refuses the rest."""

from __future__ import annotations

import asyncio

import pytest

from dlt.crypto import CompositeKey
from dlt.encoding import encode
from dlt.flows.library.notary_protocol import (
    NotarisationPayload,
    NotarisationResponse,
    NotarisationResult,
    NotaryError,
    NotaryException,
    RequestSignatureInvalid,
    SignedRefusal,
    TimeWindowInvalid,
    TransactionInvalid,
    WrongNotary,
    sign_request,
)
from dlt.identity import Party, X500Name
from dlt.ledger import (
    ComponentGroup,
    FilteredTransaction,
    SignedTransaction,
    StateRef,
    TransactionVerificationError,
)
from dlt.testing import test_identity
from fixtures.ledger import ALICE, BOB, NOTARY
from notary.replica import NotaryConfigurationError, NotaryReplica
from notary.uniqueness import SqlUniquenessProvider

from .conftest import OpenDatabase
from .support import (
    CLOSED_AN_HOUR_AGO,
    WITHIN_AN_HOUR,
    Submission,
    fixed_clock,
    make_tx,
    state,
    submission,
    validating_submission,
)


def notarise(replica: NotaryReplica, *sent: Submission) -> list[NotarisationResult]:
    """Send every submission at once, as concurrent clients would."""

    async def send_all() -> list[NotarisationResult]:
        return await asyncio.gather(*(replica.process(*s.args()) for s in sent))

    return asyncio.run(send_all())


def refused_with(result: NotarisationResult) -> NotaryError:
    """The error of a refusal, which every replica signs with its own key."""
    assert isinstance(result, SignedRefusal)
    return result.verify(NOTARY.party, result.refusal.tx_id)


def signed_by_replica(result: NotarisationResult, replica: NotaryReplica, tx_id) -> bool:
    assert isinstance(result, NotarisationResponse), result
    [signature] = result.signatures
    return signature.by == replica.key.public_key and signature.is_valid(tx_id)


def test_an_unspent_transaction_gets_the_replicas_signature_over_its_id(replica):
    tx = make_tx([state(1)])

    [result] = notarise(replica, submission(tx))

    assert signed_by_replica(result, replica, tx.id)


def test_notarising_the_same_transaction_again_returns_a_valid_signature(replica):
    tx = make_tx([state(1)])
    notarise(replica, submission(tx))

    [again] = notarise(replica, submission(tx))

    assert signed_by_replica(again, replica, tx.id)


def test_a_double_spend_returns_signed_evidence_naming_the_consuming_transaction(replica):
    first, double_spend = make_tx([state(1)]), make_tx([state(1)])
    notarise(replica, submission(first))

    [result] = notarise(replica, submission(double_spend))

    assert isinstance(result, SignedRefusal)
    conflict = result.verify(NOTARY.party, double_spend.id)
    assert conflict.tx_id == double_spend.id
    assert conflict.consumed_states[state(1)].consuming_tx_id == first.id
    assert f"input {state(1)} was already consumed by transaction {first.id}" in str(
        NotaryException(conflict)
    )


def test_a_transaction_referencing_a_consumed_state_is_refused(replica):
    spender = make_tx([state(1)])
    notarise(replica, submission(spender))

    [result] = notarise(replica, submission(make_tx([state(2)], references=[state(1)])))

    assert isinstance(result, SignedRefusal)
    assert result.verify(NOTARY.party).consumed_states[state(1)].consuming_tx_id == spender.id


def test_a_transaction_outside_its_time_window_is_refused(replica):
    [result] = notarise(replica, submission(make_tx([state(1)], time_window=CLOSED_AN_HOUR_AGO)))

    assert isinstance(refused_with(result), TimeWindowInvalid)
    assert refused_with(result).window == CLOSED_AN_HOUR_AGO


def test_a_transaction_inside_its_time_window_is_signed(replica):
    tx = make_tx([state(1)], time_window=WITHIN_AN_HOUR)

    [result] = notarise(replica, submission(tx))

    assert signed_by_replica(result, replica, tx.id)


def test_a_transaction_naming_another_notary_is_refused(replica):
    tx = make_tx([state(1)], notary=BOB.party)

    [result] = notarise(replica, submission(tx))

    assert refused_with(result) == WrongNotary(named=BOB.party, contacted=NOTARY.party)


def test_a_filtered_transaction_hiding_an_input_is_refused(replica):
    tx = make_tx([state(1), state(2)])
    shown = {ComponentGroup.REFERENCES, ComponentGroup.TIMEWINDOW, ComponentGroup.NOTARY}
    hides_second_input = FilteredTransaction.build(
        tx,
        lambda group, c: group in shown or (group == ComponentGroup.INPUTS and c == state(1)),
    )
    sent = submission(tx, payload=NotarisationPayload.non_validating(hides_second_input))
    partial_request = sent.request.model_copy(update={"inputs": (state(1),)})

    [result] = notarise(
        replica, Submission(partial_request, sent.payload, sign_request(ALICE.key, partial_request))
    )

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "INPUTS is only partly revealed" in refused_with(result).reason


def test_a_request_listing_other_inputs_than_the_transaction_is_refused(replica):
    tx = make_tx([state(1)])
    sent = submission(tx)
    other_inputs = sent.request.model_copy(update={"inputs": (state(2),)})

    [result] = notarise(
        replica, Submission(other_inputs, sent.payload, sign_request(ALICE.key, other_inputs))
    )

    assert isinstance(refused_with(result), TransactionInvalid)
    assert f"lists inputs [{state(2)}]" in refused_with(result).reason


def test_a_payload_for_another_transaction_than_the_request_is_refused(replica):
    sent, other = submission(make_tx([state(1)])), submission(make_tx([state(1)]))

    [result] = notarise(replica, Submission(sent.request, other.payload, sent.signature))

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "the payload carries transaction" in refused_with(result).reason


def test_a_request_not_signed_by_its_requester_is_refused_and_consumes_nothing(replica):
    tx = make_tx([state(1)])
    sent = submission(tx, requester=ALICE)
    forged = Submission(sent.request, sent.payload, sign_request(BOB.key, sent.request))

    [refused] = notarise(replica, forged)
    [honest] = notarise(replica, submission(make_tx([state(1)])))

    assert isinstance(refused_with(refused), RequestSignatureInvalid)
    assert isinstance(honest, NotarisationResponse)


def test_a_state_reference_beyond_any_real_output_index_is_refused(replica):
    impossible = StateRef(txhash=state(1).txhash, index=2**63)

    [result] = notarise(replica, submission(make_tx([impossible])))

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "output index no transaction can have" in refused_with(result).reason


def test_a_non_validating_replica_also_accepts_the_whole_transaction(replica):
    stx = SignedTransaction(make_tx([state(1)])).sign(ALICE.key)

    [result] = notarise(replica, validating_submission(stx))

    assert signed_by_replica(result, replica, stx.id)


def test_many_requests_racing_to_spend_one_state_commit_exactly_once(replica):
    racers = [make_tx([state(1), state(100 + n)]) for n in range(40)]

    results = notarise(replica, *(submission(tx) for tx in racers))

    winners = [
        tx for tx, r in zip(racers, results, strict=True) if isinstance(r, NotarisationResponse)
    ]
    assert len(winners) == 1
    losers = [r for r in results if not isinstance(r, NotarisationResponse)]
    assert all(
        r.verify(NOTARY.party).consumed_states[state(1)].consuming_tx_id == winners[0].id
        for r in losers
    )


def test_concurrent_requests_share_one_signature_and_each_proof_verifies(replica):
    txs = [make_tx([state(n)]) for n in range(16)]

    results = notarise(replica, *(submission(tx) for tx in txs))

    signatures = [r.signatures[0] for r in results if isinstance(r, NotarisationResponse)]
    assert len(signatures) == len(txs)
    assert len({s.signature for s in signatures}) < len(txs)
    for n, (tx, signature) in enumerate(zip(txs, signatures, strict=True)):
        signature.verify(tx.id)
        assert signature.batch_proof is not None
        assert not signature.is_valid(txs[(n + 1) % len(txs)].id)


def test_a_restarted_replica_remembers_what_was_consumed(open_database: OpenDatabase):
    spender = make_tx([state(1)])
    first_run = open_database()
    notarise(
        NotaryReplica(NOTARY.key, NOTARY.party, SqlUniquenessProvider(first_run), fixed_clock),
        submission(spender),
    )
    first_run.close()

    restarted = NotaryReplica(
        NOTARY.key, NOTARY.party, SqlUniquenessProvider(open_database()), fixed_clock
    )
    [result] = notarise(restarted, submission(make_tx([state(1)])))

    assert isinstance(result, SignedRefusal)
    assert result.verify(NOTARY.party).consumed_states[state(1)].consuming_tx_id == spender.id


def test_a_replica_of_a_cluster_signs_with_its_own_share_of_the_service_key(provider):
    members = [test_identity(f"O=Notary Replica {n}, L=London, C=GB") for n in range(4)]
    service_key = CompositeKey.build([m.public_key for m in members], threshold=3)
    service = Party(name=X500Name.parse("O=Notary Cluster, L=London, C=GB"), owning_key=service_key)
    replica = NotaryReplica(members[2].key, service, provider, fixed_clock)
    tx = make_tx([state(1)], notary=service)

    [result] = notarise(replica, submission(tx))

    assert signed_by_replica(result, replica, tx.id)
    assert result.signatures[0].by in service_key.leaf_keys


def test_a_replica_whose_key_is_not_the_services_will_not_start(provider):
    with pytest.raises(NotaryConfigurationError, match="not a key of notary service"):
        NotaryReplica(BOB.key, NOTARY.party, provider, fixed_clock)


# -- validating mode ----------------------------------------------------------------------


class RecordingVerifier:
    """Stands in for back-chain resolution: records what it was asked, refuses on demand."""

    def __init__(self, refusal: str | None = None) -> None:
        self.verified: list[SignedTransaction] = []
        self.refusal = refusal

    async def __call__(self, stx: SignedTransaction) -> None:
        self.verified.append(stx)
        if self.refusal is not None:
            raise TransactionVerificationError(stx.id, self.refusal)


def validating_replica(provider, verifier: RecordingVerifier) -> NotaryReplica:
    return NotaryReplica(
        NOTARY.key,
        NOTARY.party,
        provider,
        fixed_clock,
        validating=True,
        verify_transaction=verifier,
    )


def test_a_validating_replica_verifies_the_whole_transaction_before_signing(provider):
    verifier = RecordingVerifier()
    replica = validating_replica(provider, verifier)
    stx = SignedTransaction(make_tx([state(1)])).sign(ALICE.key)

    [result] = notarise(replica, validating_submission(stx))

    assert verifier.verified == [stx]
    assert signed_by_replica(result, replica, stx.id)


def test_a_validating_replica_refuses_what_verification_rejects_and_consumes_nothing(provider):
    replica = validating_replica(provider, RecordingVerifier(refusal="contract said no"))
    stx = SignedTransaction(make_tx([state(1)])).sign(ALICE.key)

    [result] = notarise(replica, validating_submission(stx))

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "contract said no" in refused_with(result).reason
    assert asyncio.run(provider.consuming_transactions([state(1)])) == {}


def test_a_validating_replica_refuses_a_transaction_missing_a_partys_signature(provider):
    verifier = RecordingVerifier()
    replica = validating_replica(provider, verifier)
    unsigned = SignedTransaction(make_tx([state(1)]))

    [result] = notarise(replica, validating_submission(unsigned))

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "missing signatures" in refused_with(result).reason
    assert verifier.verified == []


def test_a_validating_replica_refuses_a_filtered_transaction(provider):
    replica = validating_replica(provider, RecordingVerifier())

    [result] = notarise(replica, submission(make_tx([state(1)])))

    assert isinstance(refused_with(result), TransactionInvalid)
    assert "send the whole signed transaction" in refused_with(result).reason


def test_a_validating_replica_needs_a_way_to_verify_transactions(provider):
    with pytest.raises(NotaryConfigurationError, match="verify_transaction"):
        NotaryReplica(NOTARY.key, NOTARY.party, provider, fixed_clock, validating=True)


def _unchecked_tx(inputs: list[StateRef], references: list[StateRef] = ()):
    """A transaction whose components no honest builder would produce: the notary sees only a
    filtered view, whose id the requester computes over whatever components it likes."""
    honest = make_tx([state(90)])
    forged = object.__new__(type(honest))
    forged._salt = honest.privacy_salt
    forged._groups = {group: honest.components(group) for group in ComponentGroup} | {
        ComponentGroup.INPUTS: tuple(encode(ref) for ref in inputs),
        ComponentGroup.REFERENCES: tuple(encode(ref) for ref in references),
    }
    return forged


@pytest.mark.parametrize(
    ("inputs", "references", "reason"),
    [
        ([1, 1], [], "same input twice"),
        ([1], [2, 2], "same reference twice"),
        ([1], [1], "both an input and a reference"),
    ],
)
def test_a_request_listing_a_state_twice_is_refused_and_fails_no_other_request_in_its_batch(
    replica, inputs, references, reason
):
    """A requester holding only its own key crafts a filtered transaction that lists one
    state twice; coalesced with honest requests, it must not make their batch fail."""
    forged = _unchecked_tx([state(n) for n in inputs], [state(n) for n in references])
    honest = [make_tx([state(10 + n)]) for n in range(3)]

    results = notarise(
        replica, submission(honest[0]), submission(forged), *map(submission, honest[1:])
    )

    assert reason in refused_with(results[1]).reason
    for result, tx in zip([results[0], *results[2:]], honest, strict=True):
        assert signed_by_replica(result, replica, tx.id)
