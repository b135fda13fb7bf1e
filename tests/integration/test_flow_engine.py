"""The flow engine: conversations, replay after crashes, faults, the hospital, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from dlt.encoding import decode
from dlt.flows import CounterpartyFlowError, FlowKilledError, FlowTimeoutError, registry
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.flows.storage import FlowStatus
from dlt.messaging.in_memory import Fault
from dlt.messaging.transport import TransportError
from fixtures.crashes import run_through_crash
from fixtures.flows import (
    FLAKY_FAILURES,
    CountThenAddFlow,
    FlakyFlow,
    NondeterministicFlow,
    PingFlow,
    RefuseFlow,
    RejectFlow,
    SilentFlow,
    SleeperFlow,
    effect_count,
)

ALICE = "O=Alice, L=Leeds, C=GB"
BOB = "O=Bob, L=York, C=GB"


async def two_nodes(network):
    alice = network.create_node(ALICE)
    bob = network.create_node(BOB)
    await network.start()
    return alice, bob


async def test_a_conversation_runs_to_completion(network):
    alice, bob = await two_nodes(network)

    answers = await alice.run(PingFlow(peer=bob.name, count=3))

    assert answers == [0, 2, 4]
    await network.settle()
    assert effect_count(alice.node.db, "ping-2") == 1
    assert effect_count(bob.node.db, "pong-2") == 1


async def test_finished_flows_are_recorded_with_their_result(network):
    alice, bob = await two_nodes(network)
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=1))
    await handle.result()

    record = await alice.node.engine.flow_status(handle.flow_id)

    assert record.status is FlowStatus.COMPLETED
    assert await alice.node.engine.result_of(handle.flow_id) == [0]


async def test_progress_steps_are_reported(network):
    alice, bob = await two_nodes(network)
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=1))
    await handle.result()

    assert handle.progress == ["Greeting"]


async def test_duplicated_messages_change_nothing(network):
    alice, bob = await two_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: True, duplicate=2))

    answers = await alice.run(PingFlow(peer=bob.name, count=3))

    await network.settle()
    assert answers == [0, 2, 4]
    assert effect_count(bob.node.db) == 3
    assert effect_count(alice.node.db) == 3


async def test_a_session_opens_with_one_message_carrying_the_first_payload(network):
    alice, bob = await two_nodes(network)

    assert await alice.run(PingFlow(peer=bob.name, count=1)) == [0]

    to_bob = [
        decode(message.payload, SessionMessage)
        for sender, message in network.messaging.sent
        if sender == alice.name and message.recipient == bob.name
    ]
    first = to_bob[0]
    assert first.kind is SessionMessageKind.INIT and decode(first.payload) == 1
    # Then the ping, and the END unless Bob's own END arrived first (see below).
    assert [(m.kind, m.seq) for m in to_bob[1:]] in (
        [(SessionMessageKind.DATA, 2)],
        [(SessionMessageKind.DATA, 2), (SessionMessageKind.END, 3)],
    )


async def test_reordered_messages_are_delivered_in_order(network):
    alice, bob = await two_nodes(network)
    # Alice's first two messages (the session-init carrying the count, then ping 0) are
    # held and released newest first: ping 0 arrives before its session exists.
    network.add_fault(
        Fault(matches=lambda sender, message: sender == alice.name, reorder=True, remaining=2)
    )
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=3))
    await asyncio.sleep(0.05)
    network.messaging.release_held()

    assert await asyncio.wait_for(handle.result(), 10) == [0, 2, 4]


async def test_delayed_messages_still_arrive(network):
    alice, bob = await two_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: True, delay=0.05, remaining=4))

    assert await alice.run(PingFlow(peer=bob.name, count=2)) == [0, 2]


async def test_dropped_message_is_recovered_by_a_restart_of_the_sender(network):
    alice, bob = await two_nodes(network)
    network.add_fault(
        Fault(matches=lambda sender, message: sender == alice.name, drop=True, remaining=1)
    )
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=1))
    await asyncio.sleep(0.1)
    await alice.restart()

    assert await alice.result_of(handle.flow_id) == [0]


async def ping_with_crash(base, victim_name, step, phase):
    """One ping conversation with a node crashing at `step`; True if the crash happened."""
    from dlt.testing.mock_network import MockNetwork

    network = MockNetwork(base, cordapps=["sample_cordapp"])
    alice, bob = await two_nodes(network)
    try:
        victim = alice if victim_name == "initiator" else bob
        answers, reached = await run_through_crash(
            network, alice, PingFlow(peer=bob.name, count=2), victim, step, phase
        )
        where = f"{victim_name} crashed {phase} step {step}"
        assert answers == [0, 2], where
        assert effect_count(alice.node.db) == 2, where
        assert effect_count(bob.node.db) == 2, where
        assert not network.messaging.pending(alice.name), where
        assert not network.messaging.pending(bob.name), where
        return reached
    finally:
        await network.stop()


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("victim", ["initiator", "responder"])
async def test_a_node_crashed_at_every_step_resumes_and_completes_exactly_once(
    tmp_path, victim, phase
):
    step = 0
    while await ping_with_crash(tmp_path / str(step), victim, step, phase):
        step += 1
        assert step < 40
    assert step >= 4


async def test_counterparty_flow_exception_reaches_the_initiator(network):
    alice, bob = await two_nodes(network)

    with pytest.raises(CounterpartyFlowError, match="no, not today"):
        await alice.run(RefuseFlow(peer=bob.name))


async def test_a_counterpartys_refusal_of_the_transaction_reaches_the_initiator(network):
    alice, bob = await two_nodes(network)

    with pytest.raises(CounterpartyFlowError, match=r"energy\.Energy rejected it: over-issued"):
        await alice.run(RejectFlow(peer=bob.name, error="contract"))


async def test_a_counterpartys_internal_error_stays_private(network):
    alice, bob = await two_nodes(network)

    with pytest.raises(CounterpartyFlowError, match="failed unexpectedly") as failure:
        await alice.run(RejectFlow(peer=bob.name, error="bug"))

    assert "secret" not in str(failure.value)


async def test_failed_flow_is_recorded_with_its_error(network):
    alice, bob = await two_nodes(network)
    handle = await alice.start_flow(RefuseFlow(peer=bob.name))
    with pytest.raises(CounterpartyFlowError):
        await handle.result()

    record = await alice.node.engine.flow_status(handle.flow_id)

    assert record.status is FlowStatus.FAILED
    assert "no, not today" in (record.error_message or "")


async def test_a_receive_that_waits_too_long_times_out(network):
    alice, bob = await two_nodes(network)

    with pytest.raises(FlowTimeoutError, match="sent nothing in time"):
        await alice.run(SilentFlow(peer=bob.name, timeout=0.1))


async def test_transient_errors_are_retried_until_the_flow_succeeds(network):
    alice, _ = await two_nodes(network)

    assert await alice.run(FlakyFlow(key="retry-twice", failures=2)) == "recovered"
    assert FLAKY_FAILURES["retry-twice"] == 2
    assert effect_count(alice.node.db, "flaky") == 1


async def test_a_flow_that_keeps_failing_transiently_is_parked_for_an_operator(network):
    alice, _ = await two_nodes(network)
    handle = await alice.start_flow(FlakyFlow(key="hopeless", failures=100))
    await network.settle(timeout=20)

    record = await alice.node.engine.flow_status(handle.flow_id)

    assert record.status is FlowStatus.HOSPITALISED
    assert "retries" in (record.error_message or "")


async def test_a_parked_flow_can_be_retried_by_an_operator(network):
    alice, _ = await two_nodes(network)
    handle = await alice.start_flow(FlakyFlow(key="operator", failures=6))
    await network.settle(timeout=20)
    FLAKY_FAILURES["operator"] = 100

    await alice.node.engine.retry_flow(handle.flow_id)

    assert await asyncio.wait_for(handle.result(), 5) == "recovered"


async def test_a_flow_that_diverges_on_replay_is_parked(network):
    alice, _ = await two_nodes(network)
    handle = await alice.start_flow(NondeterministicFlow(key="diverge"))
    await network.settle(timeout=10)

    record = await alice.node.engine.flow_status(handle.flow_id)

    assert record.status is FlowStatus.HOSPITALISED
    assert record.error_type == "ReplayDivergenceError"


async def test_an_operator_can_kill_a_flow(network):
    alice, _ = await two_nodes(network)
    handle = await alice.start_flow(SleeperFlow(seconds=60))

    await alice.node.engine.kill_flow(handle.flow_id)

    with pytest.raises(FlowKilledError):
        await handle.result()
    record = await alice.node.engine.flow_status(handle.flow_id)
    assert record.status is FlowStatus.KILLED


async def test_a_journaled_read_is_written_with_the_next_commit_not_one_of_its_own(network):
    alice, _ = await two_nodes(network)
    commits: list[tuple[str, range]] = []
    crash_hook = alice.node.engine.crash_hook

    def record(flow_id: str, steps: range, phase: str) -> None:
        if phase == "before":
            commits.append((flow_id, steps))
        if crash_hook is not None:
            crash_hook(flow_id, steps, phase)

    alice.node.engine.crash_hook = record
    handle = await alice.start_flow(CountThenAddFlow(label="one"))

    assert await handle.result() == 0
    ours = [steps for flow_id, steps in commits if flow_id == handle.flow_id]
    assert ours[0] == range(0, 2)  # the read and the effect: one commit


async def test_a_responder_writes_nothing_but_its_own_commits(network):
    alice, bob = await two_nodes(network)
    commits: list[str] = []
    writes: list[int] = []
    crash_hook, write = bob.node.engine.crash_hook, bob.node.db.write

    def record(flow_id: str, steps: range, phase: str) -> None:
        if phase == "before":
            commits.append(flow_id)
        if crash_hook is not None:
            crash_hook(flow_id, steps, phase)

    async def counted(work):
        writes.append(1)
        return await write(work)

    bob.node.engine.crash_hook = record
    bob.node.db.write = counted  # type: ignore[method-assign]

    assert await alice.run(PingFlow(peer=bob.name, count=2)) == [0, 2]
    await network.settle()
    # Its row goes with its first commit: no write of its own for being started.
    assert len(commits) == len(writes) == 3  # two effects and the finish
    row = await bob.node.engine.flow_status(commits[0])
    assert row.status is FlowStatus.COMPLETED and row.peer == str(alice.name)


async def test_a_send_the_broker_never_confirms_fails_the_wait_and_the_retry_sends_it_again(
    network,
):
    alice, bob = await two_nodes(network)
    transport = alice.node.engine.transport
    send, refused = transport.send, []

    async def refuse_the_first(message):
        if not refused:
            refused.append(message.message_id)
            await asyncio.sleep(0.05)  # the confirm is awaited, then refused
            raise TransportError("the broker refused it")
        await send(message)

    transport.send = refuse_the_first

    assert await alice.run(PingFlow(peer=bob.name, count=2)) == [0, 2]
    await network.settle()
    assert len(refused) == 1
    assert effect_count(alice.node.db) == effect_count(bob.node.db) == 2


async def test_a_flow_ends_only_once_the_broker_confirmed_everything_it_sent(network):
    alice, bob = await two_nodes(network)
    transport = alice.node.engine.transport
    send, unconfirmed = transport.send, [0]

    async def slow_confirm(message):
        unconfirmed[0] += 1
        try:
            await send(message)
            await asyncio.sleep(0.1)  # delivered, and the confirm comes late
        finally:
            unconfirmed[0] -= 1

    transport.send = slow_confirm
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=2))

    assert await handle.result() == [0, 2]
    assert unconfirmed[0] == 0
    record = await alice.node.engine.flow_status(handle.flow_id)
    assert record.status is FlowStatus.COMPLETED


async def test_a_replay_sees_what_a_journaled_read_saw_though_the_vault_changed(network):
    alice, _ = await two_nodes(network)

    result, crashed = await run_through_crash(
        network, alice, CountThenAddFlow(label="once"), alice, step=1, phase="after"
    )

    assert crashed
    assert result == 0  # read before the effect; a fresh read after the restart says 1
    assert effect_count(alice.node.db, "once") == 1


async def test_a_durable_sleep_survives_a_restart(network):
    alice, _ = await two_nodes(network)
    handle = await alice.start_flow(SleeperFlow(seconds=0.3))
    await asyncio.sleep(0.05)
    await alice.restart()

    assert await alice.result_of(handle.flow_id) == "awake"


async def test_flows_survive_a_clean_restart_of_both_nodes(network):
    alice, bob = await two_nodes(network)
    network.add_fault(Fault(matches=lambda sender, message: True, delay=0.2, remaining=2))
    handle = await alice.start_flow(PingFlow(peer=bob.name, count=2))
    await asyncio.sleep(0.05)
    await alice.stop()
    await bob.stop()
    await bob.start()
    await alice.start()

    assert await alice.result_of(handle.flow_id) == [0, 2]


async def test_many_flows_run_concurrently(network):
    alice, bob = await two_nodes(network)

    handles = [await alice.start_flow(PingFlow(peer=bob.name, count=1)) for _ in range(200)]
    results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)

    assert results == [[0]] * 200


async def test_a_node_whose_unfinished_flow_is_not_installed_starts_and_keeps_the_flow(
    network, monkeypatch
):
    """A CorDapp missing while one of its flows is unfinished (a replica that was faulty for a
    drill and is honest again) must not keep the node from starting, nor lose the flow."""
    alice, bob = await two_nodes(network)
    stranded = await alice.start_flow(SleeperFlow(seconds=0.5))
    await asyncio.sleep(0.05)
    await alice.stop()
    monkeypatch.delitem(registry._by_name, "test.Sleeper")

    await alice.start()

    assert await alice.run(PingFlow(peer=bob.name, count=1)) == [0]
    record = await alice.node.engine.flow_status(stranded.flow_id)
    assert record.status is FlowStatus.RUNNABLE
    monkeypatch.undo()
    await alice.restart()
    assert await alice.result_of(stranded.flow_id) == "awake"
