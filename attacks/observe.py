"""What a victim node recorded, read over its RPC: the scenarios' evidence, not the attacker's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from dlt.rpc.client import FlowStatus, RpcClient, RpcNotFoundError, StateStatus, VaultQuery


@dataclass(frozen=True)
class Ledger:
    """How much a node holds: transactions recorded, states unconsumed and consumed."""

    transactions: int
    unconsumed: int
    consumed: int


async def ledger(client: RpcClient) -> Ledger:
    page = await client.list_transactions(page_number=1, page_size=1)
    unconsumed = await client.vault_query(VaultQuery(status=StateStatus.UNCONSUMED, page_size=1))
    consumed = await client.vault_query(VaultQuery(status=StateStatus.CONSUMED, page_size=1))
    return Ledger(page.total, unconsumed.total_states_available, consumed.total_states_available)


async def recorded(client: RpcClient, tx_id: str) -> bool:
    """Whether the node recorded transaction `tx_id`."""
    try:
        await client.get_transaction(tx_id)
    except RpcNotFoundError:
        return False
    return True


async def until_recorded(client: RpcClient, tx_id: str, timeout: float = 30.0) -> None:
    """Wait until the node has recorded `tx_id` (finality reaches it after the sender returns)."""
    deadline = time.monotonic() + timeout
    while not await recorded(client, tx_id):
        if time.monotonic() > deadline:
            raise TimeoutError(f"transaction {tx_id} was not recorded within {timeout:g} s")
        await asyncio.sleep(0.2)


async def failed_flows(client: RpcClient) -> dict[str, str]:
    """The node's failed flows: id -> `ErrorType: message`, what the node itself says."""
    return {
        info.flow_id: f"{info.error_type}: {info.error_message}"
        for info in await client.list_flows([FlowStatus.FAILED])
    }
