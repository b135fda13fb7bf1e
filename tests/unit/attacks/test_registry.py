"""The scenario registry: every scenario module implements the interface; names are unique."""

from __future__ import annotations

import pytest

from attacks.context import scenario_rng
from attacks.registry import UnknownScenarioError, scenario, scenarios
from attacks.scenario import Scenario


def test_every_installed_scenario_implements_the_interface_under_a_unique_name():
    found = scenarios()

    assert all(isinstance(s, Scenario) for s in found)
    names = [s.name for s in found]
    assert len(names) == len(set(names))
    assert {"double-spend", "replay", "forgery", "impersonation", "malformed", "crash-soak"} <= set(
        names
    )


def test_every_scenario_makes_more_attempts_in_the_full_run():
    assert all(s.full_count > s.default_count > 0 for s in scenarios())


def test_f_plus_1_faulty_replicas_run_after_every_other_scenario():
    assert scenarios()[-1].name == "double-spend-unsafe"


def test_the_double_spend_race_makes_at_least_500_attempts_and_10000_in_full():
    race = scenario("double-spend")

    assert race.default_count >= 500
    assert race.full_count >= 10_000


def test_an_unknown_scenario_is_refused_naming_those_there_are():
    with pytest.raises(UnknownScenarioError, match="scenarios: double-spend, replay"):
        scenario("phishing")


def test_a_scenario_draws_the_same_numbers_for_the_same_seed_alone_or_in_a_full_run():
    assert scenario_rng(7, "forgery").random() == scenario_rng(7, "forgery").random()
    assert scenario_rng(7, "forgery").random() != scenario_rng(8, "forgery").random()
    assert scenario_rng(7, "forgery").random() != scenario_rng(7, "replay").random()
