"""Multi-host tests: network namespaces as hosts (deploy/multihost), which needs root.

Without the privilege every test that needs hosts skips with a one-line reason (the joining
tests need none: they run the doorman on loopback). The tests marked `multihost` bring up the
whole production-shaped network (a minute and a half on a small machine each) and run only
with DLT_MULTIHOST=1, which `make test` sets (`make test MULTIHOST=0` leaves them out); those
also marked `consortium` bring up a second network, with one broker cluster across three
hosts, and run only with DLT_MULTIHOST=all, which `make multihost` sets. Figures the slow tests
measure are printed at the end of the session and written to $DLT_MULTIHOST_REPORT (default:
multihost-report.json in the session's temporary directory).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.multihost.netns import unavailable_reason

FULL_ENV = "DLT_MULTIHOST"
REPORT_ENV = "DLT_MULTIHOST_REPORT"
_FIGURES: dict[str, object] = {}
_REASON: list[str | None] = []


def _reason() -> str | None:
    if not _REASON:
        _REASON.append(unavailable_reason())
    return _REASON[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not item.get_closest_marker("multihost"):
            continue
        reason = _reason()
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"no test hosts: {reason}"))
        elif os.environ.get(FULL_ENV) not in {"1", "all"}:
            item.add_marker(
                pytest.mark.skip(reason=f"the full multi-host network runs with {FULL_ENV}=1")
            )
        elif item.get_closest_marker("consortium") and os.environ.get(FULL_ENV) != "all":
            item.add_marker(
                pytest.mark.skip(
                    reason=f"the consortium network runs with {FULL_ENV}=all (make multihost)"
                )
            )


@pytest.fixture
def hosts_available() -> None:
    """Skip (one line) where network namespaces cannot be made."""
    reason = _reason()
    if reason is not None:
        pytest.skip(f"no test hosts: {reason}")


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Measured figures, by name; reported when the session ends."""
    yield _FIGURES
    path = Path(
        os.environ.get(REPORT_ENV) or tmp_path_factory.getbasetemp() / "multihost-report.json"
    )
    path.write_text(json.dumps(_FIGURES, indent=2, default=str))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("multi-host figures (measured)")
    for name, value in _FIGURES.items():
        terminalreporter.write_line(f"{name}: {value}")
