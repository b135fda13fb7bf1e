"""Issue and transfer with the test contract on a MockNetwork with a notary."""

from __future__ import annotations

import asyncio

import pytest

from dlt.flows import CounterpartyFlowError, FlowException
from dlt.flows.library import NotaryException
from dlt.ledger import StateRef
from dlt.vault import InsufficientStatesError, StateStatus, VaultQueryCriteria, load_transaction
from sample_cordapp import (
    AgreedMoveFlow,
    DoubleSpendFlow,
    IssueTokensFlow,
    MoveTokensFlow,
    TokenState,
)

ISSUER = "O=Grid Bank, L=London, C=GB"
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Home, L=York, C=GB"


async def build(network, validating=False):
    notary = network.create_notary(validating=validating)
    issuer = network.create_node(ISSUER)
    alice = network.create_node(ALICE)
    bob = network.create_node(BOB)
    await network.start()
    return notary, issuer, alice, bob


async def tokens(node, status=StateStatus.UNCONSUMED):
    page = await node.services.vault.query(
        VaultQueryCriteria(status=status, state_types=(TokenState,))
    )
    return [sar.state.data for sar in page.states]


async def test_issuance_lands_in_the_owners_vault(network):
    _, issuer, alice, _ = await build(network)

    stx = await issuer.run(IssueTokensFlow(owner=alice.name, amount=100))

    await network.settle()
    held = await tokens(alice)
    assert [t.amount for t in held] == [100]
    assert held[0].issuer == issuer.party
    assert (await alice.services.vault.query(VaultQueryCriteria())).states[0].ref.txhash == stx.id


@pytest.mark.parametrize("validating", [False, True], ids=["non-validating", "validating"])
async def test_issue_and_transfer_leave_the_right_states_in_both_vaults(network, validating):
    _, issuer, alice, bob = await build(network, validating)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=100))
    await network.settle()

    moved = await alice.run(
        MoveTokensFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=bob.name)
    )

    await network.settle()
    assert await tokens(alice) == []
    assert [t.amount for t in await tokens(alice, StateStatus.CONSUMED)] == [100]
    assert [(t.amount, t.owner) for t in await tokens(bob)] == [(100, bob.party)]
    assert len(moved.sigs) == 2


async def test_a_transfer_signed_by_both_parties_collects_signatures(network):
    _, issuer, alice, bob = await build(network)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=7))
    await network.settle()

    stx = await alice.run(
        AgreedMoveFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=bob.name)
    )

    assert {sig.by for sig in stx.sigs} >= {alice.party.owning_key, bob.party.owning_key}
    await network.settle()
    assert [t.amount for t in await tokens(bob)] == [7]


async def test_a_double_spend_is_rejected_naming_the_consuming_transaction(network):
    _, issuer, alice, bob = await build(network)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=100))
    ref = StateRef(txhash=issued.id, index=0)
    await network.settle()
    first = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))
    await network.settle()

    with pytest.raises(NotaryException) as refused:
        await alice.run(DoubleSpendFlow(ref=ref, new_owner=issuer.name))

    assert str(first.id) in str(refused.value)
    assert "double spend" in str(refused.value)
    await network.settle()
    assert await tokens(issuer) == []


async def test_the_vault_will_not_select_a_consumed_state(network):
    _, issuer, alice, bob = await build(network)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=100))
    ref = StateRef(txhash=issued.id, index=0)
    await network.settle()
    await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))

    with pytest.raises(InsufficientStatesError):
        await alice.run(MoveTokensFlow(ref=ref, new_owner=issuer.name))


async def test_two_concurrent_moves_of_one_state_cannot_both_succeed(network):
    _, issuer, alice, bob = await build(network)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=100))
    ref = StateRef(txhash=issued.id, index=0)
    await network.settle()

    results = await asyncio.gather(
        alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name)),
        alice.run(MoveTokensFlow(ref=ref, new_owner=issuer.name)),
        return_exceptions=True,
    )

    assert sum(not isinstance(r, BaseException) for r in results) == 1
    await network.settle()
    assert len(await tokens(bob)) + len(await tokens(issuer)) == 1


async def test_a_counterparty_refusing_to_sign_fails_the_flow_with_its_reason(network):
    _, issuer, alice, bob = await build(network)
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=5))
    await network.settle()
    ref = StateRef(txhash=issued.id, index=0)

    with pytest.raises(CounterpartyFlowError, match="gives us no tokens"):
        await alice.run(AgreedMoveFlow(ref=ref, new_owner=issuer.name, cosigner=bob.name))

    await network.settle()
    assert [t.amount for t in await tokens(alice)] == [5]


async def test_a_peer_may_fetch_only_transactions_in_the_chain_it_was_sent(network):
    from fixtures.flows import SNOOP_TARGET, GiveTransactionFlow

    _, issuer, alice, bob = await build(network)
    secret = await issuer.run(IssueTokensFlow(owner=alice.name, amount=1))
    given = await issuer.run(IssueTokensFlow(owner=alice.name, amount=2))
    await network.settle()
    SNOOP_TARGET["secret"] = secret.id

    with pytest.raises(FlowException, match="not in the chain"):
        await alice.run(GiveTransactionFlow(peer=bob.name, tx_id=given.id))

    await network.settle()
    assert bob.services.db.read_sync(lambda s: load_transaction(s, secret.id)) is None
