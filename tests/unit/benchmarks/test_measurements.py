"""What the harness reads from the processes: CPU from /proc, the nodes' counters."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks import procfs
from benchmarks.network import Component
from benchmarks.prometheus import message_path, notary_activity


def _scrape(commits: float, batches: float, batched: float, buckets: dict[str, float]) -> dict:
    samples = {
        "dlt_notary_commits_total": commits,
        "dlt_notary_requests_total": commits,
        "dlt_notary_batch_size_count": batches,
        "dlt_notary_batch_size_sum": batched,
    }
    for bound, count in buckets.items():
        samples[f'dlt_notary_batch_size_bucket{{le="{bound}"}}'] = count
    return samples


def test_notary_activity_is_the_difference_of_two_scrapes():
    before = {"replica-1": _scrape(10, 10, 10, {"1.0": 10, "2.0": 10, "4.0": 10})}
    after = {"replica-1": _scrape(40, 20, 40, {"1.0": 14, "2.0": 16, "4.0": 20})}

    activity = notary_activity(before, after, seconds=3.0)

    replica = activity["replicas"]["replica-1"]
    assert replica["commits"] == 30
    assert replica["commits_per_s"] == 10
    assert replica["mean_batch_size"] == 3.0
    assert activity["max_batch_bucket"] == 4.0


def _messages(sent: float, sent_s: float, received: float, received_s: float) -> dict:
    return {
        "dlt_p2p_send_seconds_count": sent,
        "dlt_p2p_send_seconds_sum": sent_s,
        "dlt_p2p_receive_latency_seconds_count": received,
        "dlt_p2p_receive_latency_seconds_sum": received_s,
    }


def test_the_message_path_sums_each_roles_nodes_over_the_window():
    before = {"c1": _messages(10, 1.0, 10, 1.0), "c2": _messages(0, 0, 0, 0), "r1": {}}
    after = {
        "c1": _messages(30, 1.04, 20, 1.05),  # 20 sent in 40 ms, 10 received in 50 ms
        "c2": _messages(20, 0.06, 10, 0.03),  # 20 sent in 60 ms, 10 received in 30 ms
        "r1": _messages(10, 0.01, 10, 0.02),
    }
    roles = {"c1": "consumer", "c2": "consumer", "r1": "notary"}

    path = message_path(before, after, roles, ok=10)

    consumer = path["consumer"]
    assert consumer["sent_per_tx"] == 4 and consumer["received_per_tx"] == 2
    assert round(consumer["confirm_ms"], 6) == 2.5
    assert round(consumer["delivery_ms"], 6) == 4.0
    assert consumer["notarisation_ms"] == 0.0
    assert path["notary"]["sent_per_tx"] == 1


def test_a_component_counts_the_processes_it_started():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        members = {stat.pid for stat in procfs.tree(os.getpid(), procfs.process_table())}
        assert {os.getpid(), child.pid} <= members
    finally:
        child.communicate(b"")


def test_cpu_time_between_readings_grows_with_work_done():
    me = [Component("this test", "party", os.getpid())]
    before = procfs.sample(me)
    sum(i * i for i in range(2_000_000))

    used = procfs.cpu_seconds(before, procfs.sample(me))

    assert used["this test"] > 0
