"""The long attack runs on real local networks: run with `pytest -m attacks tests/attacks`.
Deselected otherwise, so `make test` keeps only their fast subsets."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "attacks" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="a long attack run: select it with -m attacks")
    for item in items:
        if item.get_closest_marker("attacks") is not None:
            item.add_marker(skip)
