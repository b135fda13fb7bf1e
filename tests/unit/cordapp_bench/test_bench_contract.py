"""BenchContract refuses transactions that claim work they did not do."""

from __future__ import annotations

import pytest

from cordapp_bench import (
    AccountState,
    CpuHeavy,
    DoNothing,
    IoHeavy,
    Issue,
    KvRecord,
    KvUpdate,
    SlotState,
    Smallbank,
    SmallbankOp,
    sorted_checksum,
)
from dlt.ledger import ContractRejectedError, SignedTransaction, StateAndRef, TransactionBuilder
from dlt.testing import InMemoryLedger, test_identity

ALICE = test_identity("O=Alice, L=York, C=GB")
MALLORY = test_identity("O=Mallory, L=Hull, C=GB")
NOTARY = test_identity("O=Notary, L=London, C=GB")
_KEYS = {i.public_key: i.key for i in (ALICE, MALLORY, NOTARY)}


@pytest.fixture
def ledger() -> InMemoryLedger:
    return InMemoryLedger(cordapps=["cordapp_bench"], parties=[ALICE.party, MALLORY.party])


def _sign(tx: TransactionBuilder) -> SignedTransaction:
    stx = SignedTransaction(tx.to_wire_transaction())
    for key in stx.tx.required_signing_keys:
        stx = stx.sign(_KEYS[key])
    return stx


def _issue(ledger: InMemoryLedger, *states) -> list[StateAndRef]:
    tx = TransactionBuilder(notary=NOTARY.party)
    for state in states:
        tx.add_output_state(state)
    tx.add_command(Issue(), ALICE.public_key)
    stx = _sign(tx)
    stx.verify(ledger)
    return ledger.record(stx)


def _refused(ledger: InMemoryLedger, tx: TransactionBuilder, match: str) -> None:
    with pytest.raises(ContractRejectedError, match=match):
        _sign(tx).verify(ledger)


def _slot_tx(slot: StateAndRef, successor: SlotState, command, signer=ALICE) -> TransactionBuilder:
    tx = TransactionBuilder().add_input_state(slot).add_output_state(successor)
    return tx.add_command(command, signer.public_key)


def test_issuing_states_for_another_owner_needs_that_owners_signature(ledger):
    tx = TransactionBuilder(notary=NOTARY.party)
    tx.add_output_state(SlotState(owner=ALICE.party, serial=0))
    tx.add_command(Issue(), MALLORY.public_key)

    _refused(ledger, tx, "must sign")


def test_do_nothing_may_not_hand_the_slot_to_someone_else(ledger):
    (slot,) = _issue(ledger, SlotState(owner=ALICE.party, serial=0))

    tx = _slot_tx(slot, SlotState(owner=MALLORY.party, serial=1), DoNothing())

    _refused(ledger, tx, "keeps its owner")


def test_cpu_heavy_refuses_a_checksum_that_is_not_the_sorts(ledger):
    (slot,) = _issue(ledger, SlotState(owner=ALICE.party, serial=0))
    honest = sorted_checksum(500, 42)

    tx = _slot_tx(
        slot,
        SlotState(owner=ALICE.party, serial=1, checksum=honest + 1),
        CpuHeavy(size=500, seed=42),
    )

    _refused(ledger, tx, "checksum")


def test_cpu_heavy_accepts_the_checksum_of_the_sort(ledger):
    (slot,) = _issue(ledger, SlotState(owner=ALICE.party, serial=0))
    checksum = sorted_checksum(500, 42)

    tx = _slot_tx(
        slot, SlotState(owner=ALICE.party, serial=1, checksum=checksum), CpuHeavy(size=500, seed=42)
    )

    _sign(tx).verify(ledger)


def test_io_heavy_must_write_as_many_records_as_it_claims(ledger):
    (slot,) = _issue(ledger, SlotState(owner=ALICE.party, serial=0))
    tx = _slot_tx(slot, SlotState(owner=ALICE.party, serial=1), IoHeavy(writes=3))
    for n in range(2):
        tx.add_output_state(KvRecord(owner=ALICE.party, key=f"k{n}", value="v"))

    _refused(ledger, tx, "exactly 3")


def test_a_kv_update_may_not_change_the_key(ledger):
    (record,) = _issue(ledger, KvRecord(owner=ALICE.party, key="user1", value="a"))
    tx = TransactionBuilder().add_input_state(record)
    tx.add_output_state(KvRecord(owner=ALICE.party, key="user2", value="b", version=1))
    tx.add_command(KvUpdate(), ALICE.public_key)

    _refused(ledger, tx, "keeps the key")


def test_smallbank_outputs_must_be_what_the_rule_gives(ledger):
    payer, payee = _issue(
        ledger,
        AccountState(owner=ALICE.party, customer=1, checking=100, savings=0),
        AccountState(owner=ALICE.party, customer=2, checking=0, savings=0),
    )
    tx = TransactionBuilder().add_input_state(payer).add_input_state(payee)
    tx.add_output_state(AccountState(owner=ALICE.party, customer=1, checking=70, savings=0))
    tx.add_output_state(AccountState(owner=ALICE.party, customer=2, checking=300, savings=0))
    tx.add_command(
        Smallbank(op=SmallbankOp.SEND_PAYMENT, customers=(1, 2), amount=30), ALICE.public_key
    )

    _refused(ledger, tx, "does not end as")


def test_smallbank_refuses_withdrawing_more_savings_than_there_are(ledger):
    (account,) = _issue(ledger, AccountState(owner=ALICE.party, customer=1, checking=0, savings=5))
    tx = TransactionBuilder().add_input_state(account)
    tx.add_output_state(AccountState(owner=ALICE.party, customer=1, checking=0, savings=0))
    tx.add_command(
        Smallbank(op=SmallbankOp.TRANSACT_SAVINGS, customers=(1,), amount=-10), ALICE.public_key
    )

    _refused(ledger, tx, "cannot pay")
