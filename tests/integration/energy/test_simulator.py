"""The community simulator on the ledger in process: readings attested, trades settled by DvP,
energy and money conserved, and the same figures as the market engine on the same orders."""

from __future__ import annotations

from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.simulator.journal import Journal
from cordapp_energy.simulator.profiles import Community, CommunityParameters
from cordapp_energy.simulator.run import EngineBackend, MockLedgerBackend, Simulation

NOON = range(48, 51)


async def test_a_few_midday_intervals_trade_on_the_ledger_and_conserve_energy_and_money(tmp_path):
    community = Community(CommunityParameters(prosumers=2, consumers=2))
    backend = MockLedgerBackend(tmp_path / "nodes", community, Mechanism.UNIFORM)
    await backend.open()
    try:
        journal = Journal(tmp_path / "ledger.jsonl", {"run": "ledger"})
        journal.open(resume=False)
        outcomes = await Simulation(community, 1, backend, journal, intervals=NOON).run()
        issued = sum(o.offered_wh for o in outcomes)
        notes = await backend.conservation(issued)
    finally:
        await backend.close()

    assert [o.interval for o in outcomes] == list(NOON)
    assert sum(o.settled_wh for o in outcomes) > 0
    assert all(o.settled_wh == o.cleared_wh and o.failed_settlements == 0 for o in outcomes)
    assert all(note.endswith("OK") for note in notes), notes

    engine_journal = Journal(tmp_path / "engine.jsonl", {"run": "engine"})
    engine_journal.open(resume=False)
    engine = Simulation(
        community, 1, EngineBackend(Mechanism.UNIFORM), engine_journal, intervals=NOON
    )
    expected = await engine.run()
    assert [(o.cleared_wh, o.clearing_price) for o in outcomes] == [
        (o.cleared_wh, o.clearing_price) for o in expected
    ]


def test_the_same_seed_gives_the_same_community():
    first = Community(CommunityParameters(seed=7)).day(0)
    second = Community(CommunityParameters(seed=7)).day(0)

    assert first.generation_wh == second.generation_wh
    assert first.load_wh == second.load_wh
    assert first.weather == second.weather
