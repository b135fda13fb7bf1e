"""The simulator's data, market engine, bills and journal, without a ledger."""

from __future__ import annotations

import asyncio
import json

import pytest

from cordapp_energy.matching import Side
from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.simulator.economics import (
    MIN_ORDER_WH,
    InProcessMarket,
    Intent,
    Pricing,
    Tariff,
    Trade,
    bills,
    intents,
)
from cordapp_energy.simulator.journal import Journal, JournalMismatchError
from cordapp_energy.simulator.profiles import (
    CLOUDY_FACTOR,
    INTERVALS_PER_DAY,
    REFERENCE_COMMUNITY,
    Community,
    CommunityParameters,
    DayProfile,
    PvModel,
)
from cordapp_energy.simulator.run import EngineBackend, Simulation
from cordapp_energy.units import energy_cost


def test_the_reference_community_has_twelve_prosumers_of_5_to_15_kw_and_68_consumers():
    community = Community(REFERENCE_COMMUNITY)
    assert len(community.prosumers) == 12
    assert len(community.consumers) == 68
    assert all(5.0 <= h.pv_kw <= 15.0 for h in community.prosumers)
    day = community.day(0)
    readings = [*day.generation_wh.values(), *day.load_wh.values()]
    assert all(
        len(r) == INTERVALS_PER_DAY and all(isinstance(wh, int) for wh in r) for r in readings
    )


def test_the_gaussian_pv_curve_peaks_at_noon_is_dark_at_night_and_dims_for_a_cloudy_week():
    community = Community(CommunityParameters(prosumers=1, consumers=0, pv_model=PvModel.GAUSSIAN))
    name = community.prosumers[0].name
    clear = community.day(0).generation_wh[name]
    assert clear[8] == 0 and clear[90] == 0
    assert max(clear) == max(clear[44:52])
    cloudy = community.day(8)
    assert cloudy.weather == "cloudy week"
    ratio = sum(cloudy.generation_wh[name]) / sum(clear)
    assert ratio == pytest.approx(CLOUDY_FACTOR, rel=0.1)


def profile(**net: int) -> DayProfile:
    """One interval (index 0) where each household's net is its generation minus load."""
    day = DayProfile(day=REFERENCE_COMMUNITY.start, weather="sunny")
    for name, value in net.items():
        day.generation_wh[name] = [max(value, 0)]
        day.load_wh[name] = [max(-value, 0)]
    return day


def test_surpluses_are_offered_deficits_bid_and_crumbs_ignored():
    day = profile(a=1_000, b=-800, c=MIN_ORDER_WH - 1)
    offers, bids = intents(day, ["a", "b", "c"], 0, Pricing(), seed=1, day=0)
    assert [(i.household, i.quantity_wh) for i in offers] == [("a", 1_000)]
    assert [(i.household, i.quantity_wh) for i in bids] == [("b", 800)]


def test_no_bids_are_placed_in_an_interval_without_supply():
    assert intents(profile(b=-800), ["b"], 0, Pricing(), seed=1, day=0) == ([], [])


def test_orders_are_drawn_the_same_whatever_ran_before():
    day = profile(a=1_000, b=-800)
    assert intents(day, ["a", "b"], 0, Pricing(), 1, 0) == intents(
        day, ["a", "b"], 0, Pricing(), 1, 0
    )


@pytest.mark.parametrize("mechanism", list(Mechanism))
def test_the_engine_settles_every_match_and_moves_money_only_between_traders(mechanism):
    offers = [Intent("a", Side.SELL, 1_000, 8), Intent("b", Side.SELL, 500, 12)]
    bids = [Intent("c", Side.BUY, 900, 20), Intent("d", Side.BUY, 900, 10)]
    outcome = InProcessMarket(mechanism).clear(0, 0, offers, bids)
    assert outcome.settled_wh == outcome.cleared_wh == sum(t.quantity_wh for t in outcome.trades)
    assert outcome.welfare_milli == outcome.buyer_surplus_milli + outcome.seller_surplus_milli


def test_a_bill_buys_what_the_community_does_not_supply_from_the_grid():
    day = profile(seller=2_000, buyer=-3_000)
    trade = Trade("buyer", "seller", 2_000, 15)
    outcome = InProcessMarket(Mechanism.UNIFORM).clear(0, 0, [], [])
    outcome.trades = [trade]
    assert outcome.interval == 0
    result = bills(
        [day], ["seller", "buyer"], [outcome], Tariff(retail_per_kwh=30, feed_in_per_kwh=6)
    )
    buyer, seller = result["buyer"], result["seller"]
    assert buyer.grid_only == energy_cost(3_000, 30) == 90
    assert buyer.community == 30 + energy_cost(1_000, 30) == 60
    assert seller.grid_only == -energy_cost(2_000, 6) == -12
    assert seller.community == -30
    assert buyer.saving + seller.saving == 30 + 18


def test_a_resumed_run_keeps_the_finished_intervals_and_drops_a_half_written_line(tmp_path):
    community = Community(CommunityParameters(prosumers=2, consumers=2))
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, {"run": "engine"}, sync=False)
    journal.open(resume=False)
    run = Simulation(
        community, 1, EngineBackend(Mechanism.UNIFORM), journal, intervals=range(40, 44)
    )
    first = asyncio.run(run.run())
    journal.close()
    with path.open("a") as handle:
        handle.write('{"day": 0, "interval": 4')
    again = Journal(path, {"run": "engine"}, sync=False)
    again.open(resume=True)
    assert sorted(again.done) == [(0, i) for i in range(40, 44)]
    resumed = Simulation(
        community, 1, EngineBackend(Mechanism.UNIFORM), again, intervals=range(40, 46)
    )
    outcomes = asyncio.run(resumed.run())
    again.close()
    assert outcomes[:4] == first
    assert [o.interval for o in outcomes] == list(range(40, 46))
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_resuming_another_runs_journal_is_refused(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, {"run": "engine", "seed": 1}, sync=False)
    journal.open(resume=False)
    journal.close()
    with pytest.raises(JournalMismatchError, match="records another run"):
        Journal(path, {"run": "engine", "seed": 2}).open(resume=True)


def test_an_interrupted_run_says_how_to_resume_instead_of_a_traceback(
    tmp_path, monkeypatch, capsys
):
    from cordapp_energy.simulator import __main__ as cli

    async def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_simulate", interrupted)

    status = cli.main(["--engine", "--days", "1", "--quiet", "--out", str(tmp_path / "run")])

    assert status == 130
    error = capsys.readouterr().err
    assert "add --resume to the same command" in error
    assert "Traceback" not in error
