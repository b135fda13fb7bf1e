"""How a receiver that resolved a chain releases its sender: with its END when its flow ends
there (one message, not a marker and an END), with a marker before it waits or fails."""

from __future__ import annotations

import asyncio

from dlt.encoding import decode
from dlt.flows.library.transactions import FetchRequest
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.ledger import StateRef
from dlt.vault import load_transaction
from fixtures.vending import (
    GiveAndConverseFlow,
    GiveAndEndFlow,
    GiveThenListenFlow,
    GiveThenWaitForAnyFlow,
    GiveToRefuserFlow,
    received,
)
from sample_cordapp import AgreedMoveFlow, IssueTokensFlow, MoveTokensFlow

ISSUER = "O=Grid Bank, L=London, C=GB"
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Home, L=York, C=GB"


async def issued_to_alice(network):
    """A network with a notary, the issuer, Alice and Bob; Alice holds 10 tokens."""
    network.create_notary()
    issuer, alice, bob = (network.create_node(name) for name in (ISSUER, ALICE, BOB))
    await network.start()
    issued = await issuer.run(IssueTokensFlow(owner=alice.name, amount=10))
    await network.settle()
    return issuer, alice, bob, issued


async def moved_to_alice(network):
    """Alice holds a transaction whose chain Bob lacks: a move of tokens issued to her."""
    issuer, alice, bob, issued = await issued_to_alice(network)
    moved = await alice.run(
        MoveTokensFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=issuer.name)
    )
    await network.settle()
    network.messaging.sent.clear()
    return alice, bob, moved


def conversation(network, sender, recipient):
    return [
        decode(message.payload, SessionMessage)
        for who, message in network.messaging.sent
        if who == sender.name and message.recipient == recipient.name
    ]


def payload_of(message):
    return decode(message.payload) if message.payload else None


async def test_a_receiver_that_ends_after_resolving_sends_its_end_and_no_marker(network):
    alice, bob, moved = await moved_to_alice(network)

    assert await alice.run(GiveAndEndFlow(peer=bob.name, tx_id=moved.id)) == "given"
    await network.settle()

    from_bob = conversation(network, bob, alice)
    fetches = [payload_of(m) for m in from_bob if m.kind is SessionMessageKind.DATA]
    assert fetches and all(isinstance(f, FetchRequest) and not f.done for f in fetches)
    assert from_bob[-1].kind is SessionMessageKind.END


async def test_a_sender_sends_no_end_to_a_receiver_that_has_ended(network):
    alice, bob, moved = await moved_to_alice(network)

    await alice.run(GiveAndEndFlow(peer=bob.name, tx_id=moved.id))
    await network.settle()

    to_bob = conversation(network, alice, bob)
    assert SessionMessageKind.END not in [m.kind for m in to_bob]


async def test_a_receiver_that_waits_after_resolving_releases_its_sender_first(network):
    alice, bob, moved = await moved_to_alice(network)

    answer = await asyncio.wait_for(
        alice.run(GiveAndConverseFlow(peer=bob.name, tx_id=moved.id)), timeout=20
    )

    assert answer == received(moved)
    from_bob = [payload_of(m) for m in conversation(network, bob, alice)]
    assert any(isinstance(p, FetchRequest) and p.done for p in from_bob)


async def test_a_receiver_that_fails_after_resolving_still_releases_its_sender(network):
    alice, bob, moved = await moved_to_alice(network)

    assert await alice.run(GiveToRefuserFlow(peer=bob.name, tx_id=moved.id)) == "given"
    await network.settle()

    kinds = [m.kind for m in conversation(network, bob, alice)]
    assert kinds[-2:] == [SessionMessageKind.DATA, SessionMessageKind.ERROR]


async def test_receiving_from_a_counterparty_that_has_ended_fails_at_once(network):
    alice, bob, moved = await moved_to_alice(network)

    said = await asyncio.wait_for(
        alice.run(GiveThenListenFlow(peer=bob.name, tx_id=moved.id)), timeout=20
    )

    assert "ended its flow" in said and "expected a str" in said


async def test_waiting_on_any_session_returns_a_counterpartys_end_at_once(network):
    alice, bob, moved = await moved_to_alice(network)

    answer = await asyncio.wait_for(
        alice.run(GiveThenWaitForAnyFlow(peer=bob.name, tx_id=moved.id)), timeout=10
    )

    assert answer == "UnexpectedFlowEndError"


async def test_a_cosigner_answers_with_its_signatures_and_no_marker_before_them(network):
    _, alice, bob, issued = await issued_to_alice(network)
    network.messaging.sent.clear()

    moved = await alice.run(
        AgreedMoveFlow(ref=StateRef(txhash=issued.id, index=0), new_owner=bob.name)
    )
    await network.settle()

    from_bob = conversation(network, bob, alice)
    data = [payload_of(m) for m in from_bob if m.kind is SessionMessageKind.DATA]
    assert not any(isinstance(p, FetchRequest) and p.done for p in data)
    assert isinstance(data[-1], list) and data[-1][0].by == bob.party.owning_key
    assert from_bob[-1].kind is SessionMessageKind.END
    assert bob.services.db.read_sync(lambda s: load_transaction(s, moved.id)) is not None
