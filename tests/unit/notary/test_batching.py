"""Batches form from work that arrives while the previous batch is handled; idle work goes alone."""

from __future__ import annotations

import asyncio

import pytest

from dlt.crypto import SecureHash
from fixtures.ledger import NOTARY
from notary.batching import BatchSigner, Coalescer


class GatedHandler:
    """Records each batch; holds the first one until released, as a slow commit would."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        self.entered.set()
        await self.release.wait()
        return [item * 10 for item in items]


def test_an_idle_coalescer_handles_a_request_alone_without_waiting():
    async def scenario() -> tuple[int, list[list[int]]]:
        handler = GatedHandler()
        handler.release.set()
        coalescer = Coalescer(handler)
        result = await asyncio.wait_for(coalescer.submit(7), timeout=1)
        return result, handler.batches

    assert asyncio.run(scenario()) == (70, [[7]])


def test_requests_arriving_during_a_batch_are_handled_together_next():
    async def scenario() -> tuple[list[int], list[list[int]]]:
        handler = GatedHandler()
        coalescer = Coalescer(handler)
        first = asyncio.create_task(coalescer.submit(1))
        await handler.entered.wait()
        later = [asyncio.create_task(coalescer.submit(n)) for n in (2, 3, 4)]
        await asyncio.sleep(0)
        handler.release.set()
        return await asyncio.gather(first, *later), handler.batches

    results, batches = asyncio.run(scenario())

    assert results == [10, 20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


def test_batches_are_cut_at_the_maximum_size():
    async def scenario() -> list[list[int]]:
        handler = GatedHandler()
        handler.release.set()
        coalescer = Coalescer(handler, max_batch=2)
        await asyncio.gather(*(coalescer.submit(n) for n in range(5)))
        return handler.batches

    assert asyncio.run(scenario()) == [[0, 1], [2, 3], [4]]


def test_a_failing_batch_fails_its_own_requests_and_the_next_batch_still_runs():
    calls = 0

    async def fails_once(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk unavailable")
        return items

    async def scenario() -> int:
        coalescer = Coalescer(fails_once)
        with pytest.raises(OSError, match="disk unavailable"):
            await coalescer.submit(1)
        return await coalescer.submit(2)

    assert asyncio.run(scenario()) == 2


def test_a_lone_transaction_gets_a_plain_signature():
    tx_id = SecureHash.sha256(b"alone")

    signature = asyncio.run(BatchSigner(NOTARY.key).sign(tx_id))

    assert signature.batch_proof is None
    signature.verify(tx_id)


def test_concurrent_transactions_share_one_signature_with_a_proof_each():
    tx_ids = [SecureHash.sha256(bytes([n])) for n in range(8)]

    async def sign_all() -> list:
        signer = BatchSigner(NOTARY.key)
        return await asyncio.gather(*(signer.sign(tx_id) for tx_id in tx_ids))

    signatures = asyncio.run(sign_all())

    assert len({s.signature for s in signatures}) == 1
    for tx_id, signature in zip(tx_ids, signatures, strict=True):
        signature.verify(tx_id)
    assert not signatures[0].is_valid(tx_ids[1])
