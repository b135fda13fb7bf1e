"""A spend whose notarisation is in doubt is never abandoned.

Once a request has reached some replicas they may have committed its inputs without the
client hearing back, and they would refuse any other transaction spending those inputs:
giving up would strand the states for good. Finality asks again for the same transaction
(replicas answer a repeat idempotently) until the notary decides, its inputs staying locked
to the flow meanwhile; the flow's progress says which replicas are silent.
"""

from __future__ import annotations

import asyncio

from dlt.flows.api import FlowHandle
from dlt.flows.library.notary_client import NotaryClientSettings
from dlt.messaging.in_memory import Fault
from dlt.testing.mock_network import MockNode
from fixtures.notary_cluster import cluster_network, issued_to, tokens
from notary.service import NOTARY_EXTENSION
from sample_cordapp import MoveTokensFlow

FAST = NotaryClientSettings(first_reply_timeout=0.2, deadline=1.0, max_backoff=0.3)


async def in_doubt(handle: FlowHandle[object], within: float = 20.0) -> str:
    """The first progress step saying the notarisation is in doubt."""
    async with asyncio.timeout(within):
        while True:
            for step in handle.progress:
                if "in doubt" in step:
                    return step
            await asyncio.sleep(0.05)


async def consumers_of(replica: MockNode, ref: object) -> dict[object, object]:
    provider = replica.services.extensions[NOTARY_EXTENSION].provider
    return await provider.consuming_transactions([ref])


async def test_a_spend_whose_answers_were_lost_is_asked_again_and_completes_once(tmp_path):
    network, cluster, issuer, alice, bob = await cluster_network(tmp_path, notary_client=FAST)
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        committed = {replica.name for replica in cluster[:2]}
        unreached = {replica.name for replica in cluster[2:]}
        network.add_fault(
            Fault(matches=lambda s, m: s in committed and m.recipient == alice.name, drop=True)
        )
        network.add_fault(
            Fault(matches=lambda s, m: s == alice.name and m.recipient in unreached, drop=True)
        )

        handle = await alice.start_flow(MoveTokensFlow(ref=ref, new_owner=bob.name))
        await in_doubt(handle)
        assert [await consumers_of(replica, ref) for replica in cluster[:2]] != [{}, {}]
        network.messaging.clear_faults()
        async with asyncio.timeout(30):
            moved = await handle.result()

        await network.settle()
        assert await tokens(bob) == [100]
        assert await tokens(alice) == []
        for replica in cluster:
            assert await consumers_of(replica, ref) in ({}, {ref: moved.id})
    finally:
        await network.stop()


async def test_with_f_plus_one_replicas_down_a_spend_waits_naming_them_and_then_completes(
    tmp_path,
):
    network, cluster, issuer, alice, bob = await cluster_network(
        tmp_path, faults={0: "crash", 1: "crash"}, notary_client=FAST
    )
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()

        handle = await alice.start_flow(MoveTokensFlow(ref=ref, new_owner=bob.name))
        step = await in_doubt(handle)
        assert "Replica 1" in step and "Replica 2" in step
        assert await tokens(bob) == []
        await cluster[0].start()
        await cluster[1].start()
        async with asyncio.timeout(30):
            await handle.result()

        await network.settle()
        assert await tokens(bob) == [100]
        assert await tokens(alice) == []
    finally:
        await network.stop()
