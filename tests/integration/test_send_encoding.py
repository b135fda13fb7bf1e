"""One payload sent on several sessions is encoded once when it cannot change in between, and
anew whenever it could."""

from __future__ import annotations

from typing import Any

from dlt.flows import FlowLogic, FlowSession, flow, responder
from dlt.flows import fiber as fiber_module
from dlt.flows.library.notary_client import NotarySubmission
from dlt.identity import X500Name
from dlt.testing.mock_network import MockNetwork
from fixtures.flows import effect_count, record_effect
from fixtures.notary_cluster import cluster_network, issued_to
from sample_cordapp import MoveTokensFlow


@flow("test.SendOneListTwice", initiating=True)
class SendOneListTwiceFlow(FlowLogic[None]):
    """Send one list to two peers, changing it in between."""

    first: X500Name
    second: X500Name

    async def call(self) -> None:
        numbers = [1]
        await self.initiate_flow(self.services.identity.require_party(self.first)).send(numbers)
        numbers.append(2)
        await self.initiate_flow(self.services.identity.require_party(self.second)).send(numbers)


@responder(SendOneListTwiceFlow)
class RecordTheList(FlowLogic[None]):
    session: FlowSession

    async def call(self) -> None:
        numbers = await self.session.receive(list)
        await self.durable("record", record_effect(self.flow_id, f"got {numbers}"))


def _counting_encodes(monkeypatch: Any, kind: type) -> list[object]:
    encoded: list[object] = []
    real = fiber_module.encode

    def counting(payload: object) -> bytes:
        if isinstance(payload, kind):
            encoded.append(payload)
        return real(payload)

    monkeypatch.setattr(fiber_module, "encode", counting)
    return encoded


async def test_a_notarisation_request_sent_to_three_replicas_is_encoded_once(tmp_path, monkeypatch):
    network, cluster, issuer, alice, bob = await cluster_network(tmp_path)
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        encoded = _counting_encodes(monkeypatch, NotarySubmission)

        stx = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))

        replica_keys = {node.party.owning_key for node in cluster}
        assert len({sig.by for sig in stx.sigs} & replica_keys) >= 3
        assert len(encoded) == 1
    finally:
        await network.stop()


async def test_a_list_changed_between_two_sends_reaches_each_peer_as_it_was_sent(tmp_path):
    network = MockNetwork(tmp_path)
    alice = network.create_node("O=Alice, L=Leeds, C=GB")
    bob = network.create_node("O=Bob, L=York, C=GB")
    carol = network.create_node("O=Carol, L=Bath, C=GB")
    await network.start()
    try:
        await alice.run(SendOneListTwiceFlow(first=bob.name, second=carol.name))
        await network.settle()

        assert effect_count(bob.services.db, "got [1]") == 1
        assert effect_count(carol.services.db, "got [1, 2]") == 1
    finally:
        await network.stop()
