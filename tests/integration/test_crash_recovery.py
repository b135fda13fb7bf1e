"""A node crashed at every step of a notarised transfer resumes; the transfer happens once."""

from __future__ import annotations

import pytest

from dlt.ledger import StateRef
from dlt.testing.mock_network import MockNetwork
from dlt.vault import StateStatus, VaultQueryCriteria
from fixtures.crashes import run_through_crash
from sample_cordapp import IssueTokensFlow, MoveTokensFlow, TokenState

MAX_STEPS = 40


async def vault_amounts(node, status=StateStatus.UNCONSUMED):
    page = await node.services.vault.query(
        VaultQueryCriteria(status=status, state_types=(TokenState,))
    )
    return sorted(sar.state.data.amount for sar in page.states)


async def transfer_with_crash(base, victim_name, step, phase):
    """Returns True if the crash point was reached (else the flow ran past all steps)."""
    network = MockNetwork(base, cordapps=["sample_cordapp"])
    notary = network.create_notary()
    issuer = network.create_node("O=Grid Bank, L=London, C=GB")
    alice = network.create_node("O=Alice Solar, L=Leeds, C=GB")
    bob = network.create_node("O=Bob Home, L=York, C=GB")
    await network.start()
    try:
        issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=40))
        await network.settle()
        victim = {"alice": alice, "bob": bob, "notary": notary}[victim_name]
        moved, reached = await run_through_crash(
            network,
            alice,
            MoveTokensFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=bob.name),
            victim,
            step,
            phase,
        )
        where = f"{victim_name} crashed {phase} step {step}"
        assert moved.tx.outputs[0].data.owner == bob.party, where
        assert await vault_amounts(alice) == [], where
        assert await vault_amounts(alice, StateStatus.CONSUMED) == [40], where
        assert await vault_amounts(bob) == [40], where
        for node in (alice, bob, notary, issuer):
            assert not network.messaging.pending(node.name), f"{where}: {node.name} has messages"
            assert node.node.engine.in_flight == 0, where
        return reached
    finally:
        await network.stop()


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("victim", ["alice", "bob", "notary"])
async def test_transfer_completes_exactly_once_whatever_step_a_party_crashes_at(
    tmp_path, victim, phase
):
    step = 0
    while await transfer_with_crash(tmp_path / str(step), victim, step, phase):
        step += 1
        assert step < MAX_STEPS
    assert step >= 2, "the victim should have taken several journaled steps"
