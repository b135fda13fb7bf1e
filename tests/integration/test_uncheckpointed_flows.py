"""Uncheckpointed responders: no flow row or journal, and a duplicate session-init is not run."""

from __future__ import annotations

from dlt.flows import FlowLogic, FlowSession, flow, responder
from dlt.flows.storage import list_flows
from dlt.identity import X500Name
from dlt.messaging.in_memory import Fault
from fixtures.flows import effect_count, record_effect

ALICE = "O=Alice, L=Leeds, C=GB"
BOB = "O=Bob, L=York, C=GB"


@flow("test.AskOnce", initiating=True)
class AskOnceFlow(FlowLogic[int]):
    peer: X500Name

    async def call(self) -> int:
        session = self.initiate_flow(self.services.identity.require_party(self.peer))
        return await session.send_and_receive(int, 21)


@responder(AskOnceFlow)
class AnswerWithoutCheckpointsFlow(FlowLogic[None]):
    checkpointed = False

    session: FlowSession

    async def call(self) -> None:
        number = await self.session.receive(int)
        await self.durable("effect", record_effect(self.flow_id, "answered"))
        await self.session.send(number * 2)


async def two_nodes(network):
    alice = network.create_node(ALICE)
    bob = network.create_node(BOB)
    await network.start()
    return alice, bob


async def test_an_uncheckpointed_responder_answers_without_a_flow_row(network):
    alice, bob = await two_nodes(network)

    assert await alice.run(AskOnceFlow(peer=bob.name)) == 42
    await network.settle()

    assert effect_count(bob.node.db, "answered") == 1
    assert bob.node.db.read_sync(list_flows) == []


async def test_a_duplicated_session_init_runs_an_uncheckpointed_responder_once(network):
    alice, bob = await two_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: sender == alice.name, duplicate=1))

    assert await alice.run(AskOnceFlow(peer=bob.name)) == 42
    await network.settle()

    assert effect_count(bob.node.db, "answered") == 1
    assert network.messaging.pending(bob.name) == 0
