"""A flow's context: it reaches its fiber once bound, and says how to start it before."""

from __future__ import annotations

import pytest

from dlt.flows.api import FlowLogic


class _Idle(FlowLogic[None]):
    async def call(self) -> None:
        return None


@pytest.mark.parametrize("build", [_Idle, _Idle.model_construct], ids=["built", "constructed"])
def test_a_flow_that_is_not_running_says_how_to_start_it(build):
    with pytest.raises(RuntimeError, match="start it with a node or as a sub-flow"):
        _ = build().fiber


def test_a_bound_flow_reaches_its_fiber():
    flow = _Idle()
    fiber = object()
    flow._fiber = fiber  # what the engine does when it binds a flow

    assert flow.fiber is fiber
