"""Putting a benchmark network in the state a workload starts from, through real flows.

Nothing here is measured: market rules, money, energy for delivery windows, slots, records,
accounts, and vaults filled to a given number of states. Bulk seeding issues thousands of
states per transaction (cordapp_bench's seeding flows), so 10^5 states take minutes, not
hours, and every one of them is signed, verified and recorded like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from benchmarks.drivers.energy import CURRENCY, WINDOW_ENERGY_WH
from benchmarks.network import Endpoint
from dlt.rpc.client import RpcClient, VaultQuery

BATCH = 1_000
"""States per bulk seeding transaction, for states that only fill vaults."""
SPENDABLE_BATCH = 50
"""States per seeding transaction for states that workloads will spend. Spending one output
makes the parties load and decode its whole issuing transaction, so states from 1,000-output
issuances would make each spend pay for decoding 1,000 outputs: an artefact of seeding, not
of the workload (the report's notes say so)."""
COIN_BATCH = 10
"""Coins per issuance for the money trades spend (as a bank issues money: a few at a time)."""
PARALLEL = 2
"""Seeding flows at once: enough to overlap the two sides of each issuance."""


def client(endpoint: Endpoint) -> RpcClient:
    return RpcClient(
        endpoint.address, endpoint.username, endpoint.password, endpoint.ca_pem, timeout=300.0
    )


async def _bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], parallel: int = PARALLEL) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


def _batches(total: int, size: int = BATCH) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


async def publish_rules(operator: Endpoint, bank: Endpoint) -> None:
    async with client(operator) as rpc:
        await rpc.run_flow(
            "energy.PublishCommunityRules",
            {"payment_issuer": bank.name, "require_meter_readings": False},
        )


async def fund(
    bank: Endpoint,
    owners: Iterable[Endpoint],
    coins: int,
    amount: int,
    *,
    currency: str = CURRENCY,
    batch: int = COIN_BATCH,
) -> None:
    """`coins` coins of `amount` for each owner, issued by the bank `batch` at a time."""
    async with client(bank) as rpc:
        jobs = [
            lambda owner=owner, count=count: rpc.run_flow(
                "bench.IssuePaymentBatch",
                {"owner": owner.name, "count": count, "amount": amount, "currency": currency},
            )
            for owner in owners
            for count in _batches(coins, batch)
        ]
        await _bounded(jobs)


async def issue_own(node: Endpoint, flow: str, total: int, **arguments: Any) -> None:
    """`total` benchmark states issued by `node` to itself with `flow`, in batches; flows
    that number their states (`first`) get consecutive ranges."""
    async with client(node) as rpc:
        jobs = []
        for start in range(0, total, SPENDABLE_BATCH):
            extra = {"first": start} if flow != "bench.IssueSlots" else {}
            count = min(SPENDABLE_BATCH, total - start)
            jobs.append(
                lambda count=count, extra=extra: rpc.run_flow(
                    flow, {"count": count, **arguments, **extra}
                )
            )
        await _bounded(jobs)


async def energy_for_windows(producers: Iterable[Endpoint], windows: Iterable[str]) -> None:
    """Each producer issues energy for each delivery window, so it may offer there."""
    windows = list(windows)
    async with contextlib.AsyncExitStack() as stack:
        jobs = []
        for producer in producers:
            rpc = await stack.enter_async_context(client(producer))
            for window in windows:
                jobs.append(
                    lambda rpc=rpc, window=window: rpc.run_flow(
                        "energy.RequestEnergy",
                        {
                            "quantity_wh": WINDOW_ENERGY_WH,
                            "energy_type": "solar",
                            "window_start": window,
                            "price_per_kwh": 10,
                        },
                    )
                )
        await _bounded(jobs, parallel=4)


async def vault_size(node: Endpoint) -> int:
    """Unconsumed states in the node's vault, as the node counts them."""
    async with client(node) as rpc:
        page = await rpc.vault_query(VaultQuery(page_size=1))
    return page.total_states_available


FILL_CURRENCY = "GBP"
"""Vault-scale filling money: payment states in the trades' own table and indexes, in a
currency the trades do not select, so the trades spend their usual coins among them."""


async def fill_vaults(bank: Endpoint, owners: Iterable[Endpoint], states: int) -> dict[str, int]:
    """Top each owner's vault up to `states` unconsumed states; returns the sizes reached."""
    owners = list(owners)
    missing = {owner.slug: states - await vault_size(owner) for owner in owners}

    async def top_up(owner: Endpoint) -> None:
        if missing[owner.slug] > 0:
            await fund(bank, [owner], missing[owner.slug], 1, currency=FILL_CURRENCY, batch=BATCH)

    await asyncio.gather(*(top_up(owner) for owner in owners))
    return {owner.slug: await vault_size(owner) for owner in owners}
