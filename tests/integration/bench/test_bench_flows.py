"""The benchmark CorDapp's flows on a MockNetwork: each does the work its workload names."""

from __future__ import annotations

import pytest

from cordapp_bench import (
    AccountState,
    CpuHeavy,
    KvRecord,
    SlotState,
    SmallbankOp,
    sorted_checksum,
)
from cordapp_bench.flows import (
    CpuHeavyFlow,
    DoNothingFlow,
    IoHeavyFlow,
    IssuePaymentBatchFlow,
    IssueRecordsFlow,
    IssueSlotsFlow,
    KvUpdateFlow,
    OpenAccountsFlow,
    SmallbankFlow,
)
from cordapp_energy import PaymentState
from dlt.flows import FlowException
from dlt.testing.mock_network import MockNetwork
from dlt.vault import (
    CustomColumnCriteria,
    Operator,
    PageSpecification,
    VaultQueryCriteria,
    load_transaction,
)


@pytest.fixture
async def network(tmp_path):
    network = MockNetwork(tmp_path, cordapps=["cordapp_energy", "cordapp_bench"])
    network.create_notary(validating=True)
    bank = network.create_node("O=Community Bank, L=London, C=GB")
    alice = network.create_node("O=Alice, L=York, C=GB")
    await network.start()
    try:
        yield network, bank, alice
    finally:
        await network.stop()


async def _states(node, state_type, criteria=None):
    query = VaultQueryCriteria(state_types=(state_type,))
    if criteria is not None:
        query = query & criteria
    page = await node.services.vault.query(query, PageSpecification(1, 10_000))
    return [sar.state.data for sar in page.states]


async def test_do_nothing_consumes_a_slot_and_creates_its_successor(network):
    _, _, alice = network
    await alice.run(IssueSlotsFlow(count=2))

    stx = await alice.run(DoNothingFlow())

    assert stx is not None
    assert sorted(s.serial for s in await _states(alice, SlotState)) == [0, 1]


async def test_cpu_heavy_records_the_checksum_of_the_sort_it_did(network):
    _, _, alice = network
    await alice.run(IssueSlotsFlow(count=1))

    tx_id = await alice.run(CpuHeavyFlow(size=2_000))

    stx = await alice.services.db.read(lambda s: load_transaction(s, tx_id))
    (command,) = (c.value for c in stx.tx.commands if isinstance(c.value, CpuHeavy))
    (slot,) = await _states(alice, SlotState)
    assert slot.checksum == sorted_checksum(2_000, command.seed)


async def test_io_heavy_writes_the_records_it_reads_back(network):
    _, _, alice = network
    await alice.run(IssueSlotsFlow(count=1))

    await alice.run(IoHeavyFlow(writes=7))

    assert len(await _states(alice, KvRecord)) == 7


async def test_a_kv_update_replaces_the_record_with_its_next_version(network):
    _, _, alice = network
    await alice.run(IssueRecordsFlow(count=3, value_size=10))

    await alice.run(KvUpdateFlow(key="user1", value="new"))

    by_key = {r.key: r for r in await _states(alice, KvRecord)}
    assert (by_key["user1"].value, by_key["user1"].version) == ("new", 1)
    assert by_key["user0"].version == 0
    assert len(by_key["user0"].value) == 10


async def test_smallbank_send_payment_moves_checking_between_accounts(network):
    _, _, alice = network
    await alice.run(OpenAccountsFlow(count=2, checking=100, savings=50))

    await alice.run(SmallbankFlow(op=SmallbankOp.SEND_PAYMENT, customers=(0, 1), amount=30))

    accounts = {a.customer: (a.checking, a.savings) for a in await _states(alice, AccountState)}
    assert accounts == {0: (70, 50), 1: (130, 50)}


async def test_smallbank_refuses_to_send_more_than_the_checking_balance(network):
    _, _, alice = network
    await alice.run(OpenAccountsFlow(count=2, checking=10, savings=0))

    with pytest.raises(FlowException, match="cannot send"):
        await alice.run(SmallbankFlow(op=SmallbankOp.SEND_PAYMENT, customers=(0, 1), amount=11))


async def test_a_payment_batch_issues_many_coins_to_their_owner_in_one_transaction(network):
    mock, bank, alice = network

    await bank.run(IssuePaymentBatchFlow(owner=alice.name, count=250, amount=7, currency="EUR"))
    await mock.settle()

    owned = await _states(
        alice,
        PaymentState,
        CustomColumnCriteria(
            PaymentState, "owner_key", Operator.EQ, str(alice.party.owning_key.fingerprint)
        ),
    )
    assert [coin.amount for coin in owned] == [7] * 250
