"""The honest workload's window closes even when a payment cannot finish yet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from attacks import honest
from attacks.honest import honest_load
from attacks.report import cells
from attacks.scenario import Latency, Row


class _Payer:
    """Answers `answered` payments, then waits forever, as a spend in doubt does."""

    def __init__(self, answered: int) -> None:
        self.answered = answered
        self.calls = 0

    async def run_flow(self, name: str, arguments: dict[str, object]) -> None:
        self.calls += 1
        if self.calls > self.answered:
            await asyncio.Event().wait()


class _Network:
    def __init__(self, payer: _Payer) -> None:
        self.payer = payer

    @asynccontextmanager
    async def rpc(self, name: str) -> AsyncIterator[_Payer]:
        yield self.payer


async def test_a_payment_still_in_doubt_when_the_window_closes_counts_as_unfinished(
    monkeypatch,
) -> None:
    monkeypatch.setattr(honest, "STOP_GRACE", 0.1)
    payer = _Payer(answered=3)

    async with asyncio.timeout(5):
        async with honest_load(_Network(payer)) as measured:  # type: ignore[arg-type]
            while payer.calls <= payer.answered:
                await asyncio.sleep(0.01)

    figures = measured()
    assert (figures.count, figures.failures, figures.unfinished) == (3, 0, 1)


def test_the_report_shows_payments_awaiting_the_notary() -> None:
    row = Row(
        scenario="double-spend-unsafe",
        mode="crash x2",
        attempts=15,
        accepted=0,
        honest=Latency(count=0, p50_ms=None, p99_ms=None, unfinished=1),
        baseline=Latency(count=30, p50_ms=480.0, p99_ms=900.0),
        notes="",
    )

    assert "1 awaiting the notary" in " ".join(cells(row))
