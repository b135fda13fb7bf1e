"""Provisioning a consortium's shared users survives members importing them at once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.rabbitmq import admin
from deploy.rabbitmq.admin import BrokerAdmin
from deploy.rabbitmq.errors import BrokerError


class _Ctl:
    """rabbitmqctl as a cluster member sees it while another member imports the same users:
    the first `failures` imports lose the race."""

    def __init__(self, home: Path, failures: int, error: str) -> None:
        self.config = SimpleNamespace(home=home, vhost="/")
        self.failures = failures
        self.error = error
        self.imports = 0

    def __call__(self, *args: str, **_: object) -> None:
        assert args[0] == "import_definitions"
        assert Path(args[1]).exists()
        self.imports += 1
        if self.imports <= self.failures:
            raise BrokerError(f"`rabbitmqctl import_definitions` failed (69): {self.error}")


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(admin.time, "sleep", lambda _: None)


def test_an_import_that_lost_the_race_for_a_user_is_made_again(tmp_path) -> None:
    ctl = _Ctl(tmp_path, failures=2, error='Error: {:user_already_exists, "C=GB,O=Household"}')

    BrokerAdmin(ctl).provision_peers(["C=GB,L=York,O=Household"])  # type: ignore[arg-type]

    assert ctl.imports == 3
    assert list(tmp_path.iterdir()) == []


def test_any_other_import_failure_is_raised_at_once(tmp_path) -> None:
    ctl = _Ctl(tmp_path, failures=1, error="Error: {:badarg, ...}")

    with pytest.raises(BrokerError, match="badarg"):
        BrokerAdmin(ctl).provision_peers(["C=GB,L=York,O=Household"])  # type: ignore[arg-type]
    assert ctl.imports == 1
