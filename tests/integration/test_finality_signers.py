"""Finality to a signer: it holds the transaction it verified and signed, so it is sent only
the signatures, and records its own copy once they complete it, never anything else."""

from __future__ import annotations

import pytest

from dlt.encoding import decode
from dlt.flows.library.finality import FinalSignatures
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.ledger import SignedTransaction, StateRef
from dlt.vault import StateStatus, VaultQueryCriteria, load_transaction
from fixtures.finality import Lie, LieAtFinalityFlow
from sample_cordapp import AgreedMoveFlow, IssueTokensFlow, TokenState

ISSUER = "O=Grid Bank, L=London, C=GB"
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Home, L=York, C=GB"


async def two_coins_at_alice(network):
    notary = network.create_notary()
    issuer, alice, bob = (network.create_node(name) for name in (ISSUER, ALICE, BOB))
    await network.start()
    coins = [await issuer.run(IssueTokensFlow(owner=alice.name, amount=n)) for n in (5, 7)]
    await network.settle()
    network.messaging.sent.clear()
    return notary, alice, bob, [StateRef(txhash=stx.id, index=0) for stx in coins]


def sent_data(network, sender, recipient):
    messages = [
        decode(message.payload, SessionMessage)
        for who, message in network.messaging.sent
        if who == sender.name and message.recipient == recipient.name
    ]
    carrying = (SessionMessageKind.INIT, SessionMessageKind.DATA)
    return [decode(m.payload) for m in messages if m.kind in carrying and m.payload]


def recorded(node, tx_id):
    return node.services.db.read_sync(lambda s: load_transaction(s, tx_id))


async def tokens(node):
    page = await node.services.vault.query(
        VaultQueryCriteria(status=StateStatus.UNCONSUMED, state_types=(TokenState,))
    )
    return [sar.state.data.amount for sar in page.states]


async def test_a_signer_is_sent_the_transaction_once_and_then_only_its_signatures(network):
    notary, alice, bob, (coin, _) = await two_coins_at_alice(network)

    moved = await alice.run(AgreedMoveFlow(ref=coin, new_owner=bob.name))
    await network.settle()

    to_bob = sent_data(network, alice, bob)
    assert sum(isinstance(p, SignedTransaction) for p in to_bob) == 1
    assert isinstance(to_bob[-1], FinalSignatures) and to_bob[-1].tx_id == moved.id
    assert notary.party.owning_key in {sig.by for sig in to_bob[-1].signatures}


async def test_a_signer_records_the_transaction_with_every_signature_the_sender_has(network):
    _, alice, bob, (coin, _) = await two_coins_at_alice(network)

    moved = await alice.run(AgreedMoveFlow(ref=coin, new_owner=bob.name))
    await network.settle()

    at_bob = recorded(bob, moved.id)
    assert at_bob is not None and at_bob.tx == moved.tx
    assert set(at_bob.sigs) == set(recorded(alice, moved.id).sigs)
    assert await tokens(bob) == [5]


@pytest.mark.parametrize(
    ("lie", "refusal"),
    [
        (Lie.OTHER_TRANSACTION, "not the transaction"),
        (Lie.UNNOTARISED, "missing"),
        (Lie.FORGED_NOTARY, "does not verify"),
        (Lie.NOTARISED_OTHER, "does not verify"),
    ],
)
async def test_a_signer_records_nothing_a_lying_sender_makes_up(network, lie, refusal):
    _, alice, bob, (coin, decoy) = await two_coins_at_alice(network)

    answer = await alice.run(LieAtFinalityFlow(ref=coin, new_owner=bob.name, lie=lie, decoy=decoy))
    await network.settle()

    assert refusal in answer.lower()
    everything = await bob.services.vault.query(VaultQueryCriteria(status=StateStatus.ALL))
    assert everything.states == ()


async def test_the_senders_finality_returns_once_the_signer_has_recorded(network):
    _, alice, bob, (coin, _) = await two_coins_at_alice(network)

    moved = await alice.run(AgreedMoveFlow(ref=coin, new_owner=bob.name))

    assert recorded(bob, moved.id) is not None
