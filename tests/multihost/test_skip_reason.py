"""Without the privilege to make network namespaces, the multi-host tests say why in one line."""

from __future__ import annotations

import pytest

from deploy.multihost import netns
from deploy.multihost.netns import NetnsUnavailableError, TestHosts, unavailable_reason


def test_without_root_the_reason_is_one_line_that_says_so(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)

    reason = unavailable_reason()

    assert reason is not None and "root" in reason
    assert "\n" not in reason


def test_without_root_opening_hosts_fails_with_that_reason_and_leaves_nothing(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    hosts = TestHosts(["a", "b"])

    with pytest.raises(NetnsUnavailableError, match="root"):
        hosts.open()

    assert hosts.hosts == {}
