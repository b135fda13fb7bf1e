"""The community simulator trades and proves energy and money were conserved."""

from __future__ import annotations

from cordapp_energy.simulator.profiles import CommunityParameters
from cordapp_energy.simulator.run import Simulation, check_conservation, format_summary


async def test_a_few_midday_intervals_trade_and_conserve_energy_and_money(tmp_path):
    simulation = Simulation(tmp_path, CommunityParameters(prosumers=2, consumers=2), progress=False)
    market = await simulation.open()
    try:
        summary = await simulation.run(1, intervals=range(48, 52))
        conservation = await check_conservation(market, summary)
    finally:
        await market.stop()

    assert summary.intervals == 4
    assert summary.cleared_wh > 0
    assert summary.settled_wh == summary.cleared_wh
    assert conservation.holds
    text = format_summary(summary, conservation, elapsed=1.0)
    assert "energy conservation" in text and "OK" in text
    assert "FAILED" not in text


def test_the_same_seed_gives_the_same_community():
    from cordapp_energy.simulator.profiles import Community

    first = Community(CommunityParameters(seed=7)).day(0)
    second = Community(CommunityParameters(seed=7)).day(0)

    assert first.generation_wh == second.generation_wh
    assert first.load_wh == second.load_wh
    assert first.weather == second.weather
