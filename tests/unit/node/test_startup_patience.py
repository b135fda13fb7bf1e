"""A starting node asks an unavailable network map again, and gives up at once on one it
must not trust."""

from __future__ import annotations

import pytest

from dlt.node import process
from dlt.node.network_map_client import NetworkMapTrustError, NetworkMapUnavailableError

URL = "https://127.0.0.1:1/network-map"


def answering_after(failures: list[Exception]):
    calls = []

    async def call() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "the map"

    return call, calls


async def test_an_unavailable_service_is_asked_again_until_it_answers(monkeypatch) -> None:
    monkeypatch.setattr(process.asyncio, "sleep", _no_wait)
    call, calls = answering_after([NetworkMapUnavailableError(URL, "HTTP 503")] * 3)

    assert await process._patiently("fetch the network map", call) == "the map"
    assert len(calls) == 4


async def test_a_service_the_node_must_not_trust_fails_the_start_at_once(monkeypatch) -> None:
    monkeypatch.setattr(process.asyncio, "sleep", _no_wait)
    call, calls = answering_after([NetworkMapTrustError(URL, "its certificate is not trusted")])

    with pytest.raises(NetworkMapTrustError):
        await process._patiently("fetch the network map", call)
    assert len(calls) == 1


async def test_a_service_unavailable_for_longer_than_the_patience_fails_the_start() -> None:
    call, calls = answering_after([NetworkMapUnavailableError(URL, "HTTP 503")] * 100)

    with pytest.raises(NetworkMapUnavailableError, match="HTTP 503"):
        await process._patiently("fetch the network map", call, patience=0.6)
    assert 2 <= len(calls) <= 4


async def _no_wait(_seconds: float) -> None:
    return None
