"""A benchmark run seeds the benchmark CorDapp's own states only for workloads that use them."""

from __future__ import annotations

from benchmarks.workloads import COMPANION, OWN_STATES, WORKLOADS, own_states_for


def flows(workloads: list[str]) -> list[str]:
    return [kind.flow for kind in own_states_for(workloads)]


def test_the_trade_alone_seeds_none_of_them():
    assert flows(["dvp", "dvp-open", "crashed-replica", "idle"]) == []


def test_each_ledger_workload_seeds_what_it_spends():
    assert flows(["ycsb"]) == ["bench.IssueRecords"]
    assert flows(["smallbank"]) == ["bench.OpenAccounts"]
    assert flows(["notary-only"]) == flows(["blockbench"]) == ["bench.IssueSlots"]


def test_the_full_run_seeds_every_kind():
    assert flows(list(WORKLOADS)) == [kind.flow for kind in OWN_STATES]


def test_every_user_named_is_a_workload():
    for kind in OWN_STATES:
        assert kind.used_by <= set(WORKLOADS) | set(COMPANION), kind.flow
