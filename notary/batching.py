"""Batching without timers: work that arrives while a batch is being handled forms the next one.

When idle a request is handled at once, alone; under load, everything that queued up during the
previous batch is handled together. Batches therefore grow with load and never wait for a timer,
so they add throughput (one database commit, one signature) without adding latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from dlt.crypto import PrivateKey, SecureHash
from dlt.ledger import TransactionSignature, sign_batch

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

BatchHandler = Callable[[list[ItemT]], Awaitable[Sequence[ResultT]]]


class Coalescer(Generic[ItemT, ResultT]):
    """Feeds submitted items to `handler` in batches, one batch in flight at a time.

    `handler(items)` returns one result per item, in order; if it raises, every item of that
    batch gets the exception and later batches go ahead.
    """

    def __init__(self, handler: BatchHandler[ItemT, ResultT], max_batch: int = 1024) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._handler = handler
        self._max_batch = max_batch
        self._pending: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: ItemT) -> ResultT:
        """Handle `item` in the next batch and return its result."""
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._handle(batch)
        finally:
            self._drainer = None

    async def _handle(self, batch: list[tuple[ItemT, asyncio.Future[ResultT]]]) -> None:
        try:
            results = await self._handler([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(
                    f"batch handler returned {len(results)} results for {len(batch)} items"
                )
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class BatchSigner:
    """Signs transaction ids: alone when idle, many under one signature over a Merkle root."""

    def __init__(self, key: PrivateKey, max_batch: int = 1024) -> None:
        self._key = key
        self._coalescer: Coalescer[SecureHash, TransactionSignature] = Coalescer(
            self._sign, max_batch
        )

    async def sign(self, tx_id: SecureHash) -> TransactionSignature:
        """A signature over `tx_id`, with a batch proof when it was signed with others."""
        return await self._coalescer.submit(tx_id)

    async def _sign(self, tx_ids: list[SecureHash]) -> list[TransactionSignature]:
        return sign_batch(self._key, tx_ids)
