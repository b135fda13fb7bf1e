"""What a notary client counts: signed evidence only, once per distinct replica, about this
very transaction. Up to f replicas may lie; nothing f of them say can decide an outcome."""

from __future__ import annotations

import pytest

from dlt.crypto import CompositeKey, SecureHash
from dlt.flows.library.notary_evidence import Tally
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    StateConsumptionDetails,
    TransactionInvalid,
    sign_refusal,
)
from dlt.identity import Party, X500Name
from dlt.ledger.network_parameters import NotaryInfo
from dlt.testing import test_identity

from .support import make_tx, state

REPLICAS = [test_identity(f"O=Evidence Replica {n}, L=Bern, C=CH") for n in range(4)]
SERVICE = Party(
    name=X500Name.parse("O=Evidence Notary, L=Bern, C=CH"),
    owning_key=CompositeKey.build([r.public_key for r in REPLICAS], threshold=3),
)
INFO = NotaryInfo(identity=SERVICE, replicas=tuple(r.party for r in REPLICAS))
SPENT = state(1)
REFERENCED = state(2)
WINNER = SecureHash.sha256(b"the transaction that spent it first")


@pytest.fixture
def tally() -> Tally:
    return Tally(make_tx([SPENT], references=[REFERENCED], notary=SERVICE), INFO)


def conflict(tx_id: SecureHash, ref=SPENT, kind=ConsumedStateKind.INPUT, by=WINNER) -> Conflict:
    return Conflict(
        tx_id=tx_id, consumed={str(ref): StateConsumptionDetails(consuming_tx_id=by, kind=kind)}
    )


def refuse(tally: Tally, replica: int, error) -> None:
    tally.add(REPLICAS[replica].party, sign_refusal(REPLICAS[replica].key, tally.tx_id, error))


def test_matching_conflicts_from_f_plus_one_replicas_prove_a_double_spend(tally):
    refuse(tally, 0, conflict(tally.tx_id))
    refuse(tally, 2, conflict(tally.tx_id))

    proven = tally.proven_conflict()

    assert proven == conflict(tally.tx_id)


def test_one_replica_answering_on_many_sessions_counts_once(tally):
    for _ in range(3):
        refuse(tally, 1, conflict(tally.tx_id))
        refuse(tally, 1, TransactionInvalid(reason="says it again"))

    assert tally.proven_conflict() is None
    assert tally.proven_refusal() is None


def test_an_unsigned_refusal_counts_for_nothing(tally):
    for replica in REPLICAS[:3]:
        tally.add(replica.party, TransactionInvalid(reason="unsigned"))

    assert tally.proven_refusal() is None
    assert set(tally.faulty) == {r.party for r in REPLICAS[:3]}


def test_a_refusal_signed_by_one_replica_does_not_count_for_another(tally):
    forged = sign_refusal(REPLICAS[0].key, tally.tx_id, TransactionInvalid(reason="forged"))

    tally.add(REPLICAS[1].party, forged)
    tally.add(REPLICAS[0].party, forged)

    assert tally.proven_refusal() is None
    assert "not a key of notary O=Evidence Replica 1" in tally.faulty[REPLICAS[1].party]


def test_a_refusal_of_another_transaction_counts_for_nothing(tally):
    other = SecureHash.sha256(b"another transaction")
    for replica in REPLICAS[:2]:
        tally.add(
            replica.party, sign_refusal(replica.key, other, TransactionInvalid(reason="other"))
        )

    assert tally.proven_refusal() is None
    assert all("not the transaction" in why for why in tally.faulty.values())


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (lambda tx_id: conflict(tx_id, ref=state(9)), "which transaction"),
        (lambda tx_id: conflict(tx_id, kind=ConsumedStateKind.REFERENCE), "uses it as an input"),
        (lambda tx_id: conflict(tx_id, ref=REFERENCED), "uses it as a reference"),
        (lambda tx_id: conflict(tx_id, by=tx_id), "conflicting with itself"),
    ],
    ids=["unused state", "input called a reference", "reference called an input", "itself"],
)
def test_a_conflict_that_is_not_about_this_transactions_states_counts_for_nothing(
    tally, claim, why
):
    for replica in (0, 1, 2):
        refuse(tally, replica, claim(tally.tx_id))

    assert tally.proven_conflict() is None
    assert len(tally.faulty) == 3
    assert all(why in reason for reason in tally.faulty.values())


def test_only_the_conflicts_f_plus_one_replicas_agree_on_are_reported(tally):
    invented = SecureHash.sha256(b"a transaction that never happened")
    refuse(tally, 0, conflict(tally.tx_id))
    refuse(tally, 1, conflict(tally.tx_id, by=invented))
    refuse(tally, 3, conflict(tally.tx_id))

    proven = tally.proven_conflict()

    assert proven is not None
    assert {d.consuming_tx_id for d in proven.consumed.values()} == {WINNER}


def test_a_reference_consumed_elsewhere_is_a_conflict_when_f_plus_one_say_so(tally):
    for replica in (1, 3):
        refuse(
            tally, replica, conflict(tally.tx_id, ref=REFERENCED, kind=ConsumedStateKind.REFERENCE)
        )

    proven = tally.proven_conflict()

    assert proven is not None
    assert proven.consumed_states[REFERENCED].kind is ConsumedStateKind.REFERENCE
