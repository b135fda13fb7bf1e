"""Fuzzed inputs are bounded and repeat exactly for the same seed."""

from __future__ import annotations

from attacks.fuzzing import FLOW_FIELDS, draw, flow_calls, lookups, p2p_bodies


def test_the_same_seed_draws_the_same_p2p_bodies_and_another_seed_others():
    first = draw(p2p_bodies, 40, 3)

    assert first == draw(p2p_bodies, 40, 3)
    assert first != draw(p2p_bodies, 40, 4)
    assert len(first) == 40
    assert all(isinstance(body, bytes) for body in first)


def test_fuzzed_flow_calls_only_name_flows_the_fuzzed_node_cannot_complete():
    calls = draw(flow_calls(), 50, 1)

    assert {name for name, _ in calls} <= set(FLOW_FIELDS)


def test_no_more_examples_are_drawn_than_asked_for():
    assert len(draw(lookups, 5, 1)) == 5
