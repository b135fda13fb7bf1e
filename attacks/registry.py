"""Where the scenarios live: one module per scenario, each exposing `SCENARIO`."""

from __future__ import annotations

import importlib

from attacks.scenario import Scenario

SCENARIO_MODULES = (
    "attacks.scenarios.double_spend",
    "attacks.scenarios.replay",
    "attacks.scenarios.forgery",
    "attacks.scenarios.impersonation",
    "attacks.scenarios.malformed",
    "attacks.scenarios.crash_soak",
    "attacks.gateway.scenario",
    "attacks.scenarios.double_spend_unsafe",
)
"""In the order `dlt attack run all` runs them (f + 1 faulty replicas last: what they break
outlasts their row). A module that is not there yet (part B's gateway scenario) is skipped:
the suite runs what it has."""


class UnknownScenarioError(LookupError):
    """No scenario of that name; the message lists those there are."""


def scenarios() -> list[Scenario]:
    """Every scenario installed, in run order."""
    found: list[Scenario] = []
    for module_name in SCENARIO_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue
            raise
        scenario = module.SCENARIO
        if not isinstance(scenario, Scenario):
            raise TypeError(f"{module_name}.SCENARIO does not implement attacks.scenario.Scenario")
        found.append(scenario)
    return found


def scenario(name: str) -> Scenario:
    """The scenario called `name`."""
    for candidate in scenarios():
        if candidate.name == name:
            return candidate
    known = ", ".join(s.name for s in scenarios()) or "none"
    raise UnknownScenarioError(f"no attack scenario {name!r}; scenarios: {known}")
