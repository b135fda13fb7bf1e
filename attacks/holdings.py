"""What each node owns, summed from its own vault over RPC: for conservation checks."""

from __future__ import annotations

from collections import Counter

from dlt.rpc.client import RpcClient, StateStatus, VaultQuery

PAGE = 1_000


async def owned(client: RpcClient, owner: str, state_type: str, column: str) -> int:
    """The sum of `column` over unconsumed `state_type` states `owner` owns in this vault."""
    total = 0
    page_number = 1
    while True:
        page = await client.vault_query(
            VaultQuery(
                status=StateStatus.UNCONSUMED,
                state_types=(state_type,),
                page_number=page_number,
                page_size=PAGE,
            )
        )
        for info in page.states:
            data = info.data or {}
            if (data.get("owner") or {}).get("name") == owner:
                total += int(data[column])
        if not page.has_next:
            return total
        page_number += 1


async def holdings(client: RpcClient, owner: str) -> Counter[str]:
    return Counter(
        {
            "money": await owned(client, owner, "energy.PaymentState", "amount"),
            "energy_wh": await owned(client, owner, "energy.EnergyState", "quantity_wh"),
        }
    )
