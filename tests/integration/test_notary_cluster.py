"""A Byzantine-fault-tolerant notary cluster: n = 3f+1 replicas, quorum 2f+1."""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlt.flows.library import NotaryException
from dlt.flows.library.notary_client import NotaryClientSettings
from dlt.messaging.in_memory import Fault
from dlt.testing.mock_network import MockNetwork
from dlt.vault import load_transaction
from fixtures.faulty_replicas import BEHAVIOURS
from fixtures.notary_cluster import FAULTS, cluster_network, issued_to, tokens
from notary.service import NOTARY_EXTENSION
from sample_cordapp import DoubleSpendFlow, MoveTokensFlow


async def test_an_honest_cluster_notarises_with_a_quorum_of_replica_signatures(tmp_path):
    network, cluster, issuer, alice, bob = await cluster_network(tmp_path)
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()

        stx = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))

        replica_keys = {node.party.owning_key for node in cluster}
        assert len({sig.by for sig in stx.sigs} & replica_keys) >= 3
        stx.verify_signatures()
        await network.settle()
        assert await tokens(bob) == [100]
    finally:
        await network.stop()


@pytest.mark.parametrize("fault", FAULTS)
async def test_honest_transactions_are_notarised_despite_one_faulty_replica(tmp_path, fault):
    for faulty in range(4):
        network, _cluster, issuer, alice, bob = await cluster_network(
            tmp_path / f"{fault}-{faulty}", faults={faulty: fault}
        )
        try:
            ref = await issued_to(issuer, alice)
            await network.settle(timeout=20)
            stx = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name), timeout=30)
            stx.verify_signatures()
            await asyncio.sleep(0)
            assert await tokens(alice) == []
        finally:
            await network.stop()


@pytest.mark.parametrize("fault", ["crash", *BEHAVIOURS])
async def test_a_double_spend_is_rejected_naming_the_consuming_transaction_despite_a_faulty_replica(
    tmp_path, fault
):
    network, _cluster, issuer, alice, bob = await cluster_network(tmp_path, faults={0: fault})
    try:
        ref = await issued_to(issuer, alice)
        await network.settle(timeout=20)
        first = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name), timeout=30)
        await network.settle(timeout=20)

        with pytest.raises(NotaryException, match=str(first.id)):
            await alice.run(DoubleSpendFlow(ref=ref, new_owner=issuer.name), timeout=30)
    finally:
        await network.stop()


async def test_a_false_conflict_report_from_one_replica_does_not_block_an_honest_spend(tmp_path):
    network, _cluster, issuer, alice, bob = await cluster_network(
        tmp_path, faults={2: "false-conflict"}
    )
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()

        await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))

        await network.settle()
        assert await tokens(bob) == [100]
    finally:
        await network.stop()


async def test_a_replica_restarted_keeps_its_consumed_state_table(tmp_path):
    network, cluster, issuer, alice, bob = await cluster_network(tmp_path)
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        moved = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))
        await network.settle()
        replica = next(
            node for node in cluster if node.party.owning_key in {sig.by for sig in moved.sigs}
        )

        await replica.restart()

        provider = replica.services.extensions[NOTARY_EXTENSION].provider
        consumed = await provider.consuming_transactions([ref])
        assert consumed == {ref: moved.id}
    finally:
        await network.stop()


async def race_two_spends(base: Path, delays: list[float], equivocating: int | None) -> list[bool]:
    faults = {equivocating: "equivocate"} if equivocating is not None else {}
    network, cluster, issuer, alice, bob = await cluster_network(
        base,
        faults=faults,
        notary_client=NotaryClientSettings(first_reply_timeout=0.3, deadline=4.0, max_backoff=0.5),
    )
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        for replica, delay in zip(cluster, delays, strict=True):
            network.add_fault(
                Fault(
                    matches=lambda s, m, r=replica: m.recipient == r.name and s == alice.name,
                    delay=delay,
                )
            )
        results = await asyncio.gather(
            alice.run(DoubleSpendFlow(ref=ref, new_owner=bob.name), timeout=30),
            alice.run(DoubleSpendFlow(ref=ref, new_owner=issuer.name), timeout=30),
            return_exceptions=True,
        )
        return [not isinstance(result, BaseException) for result in results]
    finally:
        await network.stop()


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    delays=st.lists(st.sampled_from([0.0, 0.01, 0.05, 0.2]), min_size=4, max_size=4),
    equivocating=st.none() | st.integers(0, 3),
)
def test_two_conflicting_transactions_never_both_reach_a_quorum(delays, equivocating):
    with tempfile.TemporaryDirectory() as base:
        succeeded = asyncio.run(race_two_spends(Path(base), delays, equivocating))
    assert sum(succeeded) <= 1


async def test_replicas_and_clients_report_notary_metrics(tmp_path):
    network, cluster, issuer, alice, bob = await cluster_network(tmp_path, faults={3: "crash"})
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name))
        await network.settle()
        with pytest.raises(NotaryException):
            await alice.run(DoubleSpendFlow(ref=ref, new_owner=issuer.name), timeout=30)

        def total(name):
            return sum(
                node.node.metrics.registry.get_sample_value(name) or 0 for node in cluster[:3]
            )

        assert total("dlt_notary_requests_total") >= 5  # 3 to sign, at least 2 to refuse
        assert total("dlt_notary_commits_total") >= 3
        assert total("dlt_notary_conflicts_total") >= 2
        assert total("dlt_notary_batch_size_count") >= 3
        assert total("dlt_notary_commit_seconds_count") >= 3
        client = alice.node.metrics.registry
        assert client.get_sample_value("dlt_notarisation_seconds_count") == 1
        assert client.get_sample_value("dlt_notarisation_retries_total") is not None
    finally:
        await network.stop()


async def test_a_validating_cluster_resolves_the_back_chain_from_the_client(tmp_path):
    network = MockNetwork(tmp_path, cordapps=["sample_cordapp"])
    cluster = network.create_notary_cluster(replicas=4, validating=True)
    issuer = network.create_node("O=Grid Bank, L=London, C=GB")
    alice = network.create_node("O=Alice Solar, L=Leeds, C=GB")
    bob = network.create_node("O=Bob Home, L=York, C=GB")
    await network.start()
    try:
        ref = await issued_to(issuer, alice)
        await network.settle()
        await cluster[0].stop()

        stx = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name), timeout=30)

        stx.verify_signatures()
        signers = {sig.by for sig in stx.sigs}
        resolved = [
            node
            for node in cluster[1:]
            if node.party.owning_key in signers
            and node.services.db.read_sync(lambda s: load_transaction(s, ref.txhash)) is not None
        ]
        assert len(resolved) >= 3, "each signing replica fetched and checked the back-chain"
    finally:
        await network.stop()


@pytest.mark.parametrize("injector", range(4))
async def test_a_replica_writing_into_its_siblings_sessions_changes_no_outcome(tmp_path, injector):
    """Six notarisations per position of the injector, 24 in all, in a random mix of honest
    spends and double spends: each ends exactly as it would with an honest cluster."""
    network, _cluster, issuer, alice, bob = await cluster_network(
        tmp_path, faults={injector: "inject"}
    )
    choices = random.Random(injector)
    try:
        for _ in range(6):
            ref = await issued_to(issuer, alice)
            await network.settle(timeout=20)
            moved = await alice.run(MoveTokensFlow(ref=ref, new_owner=bob.name), timeout=30)
            moved.verify_signatures()
            if choices.random() < 0.5:
                with pytest.raises(NotaryException, match=f"consumed by transaction {moved.id}"):
                    await alice.run(DoubleSpendFlow(ref=ref, new_owner=issuer.name), timeout=30)
        registry = alice.node.metrics.registry
        injected = registry.get_sample_value(
            "dlt_p2p_messages_dropped_total", {"reason": "foreign_sender"}
        )
        assert injected, "the injector's messages reached the client and were dropped"
    finally:
        await network.stop()
