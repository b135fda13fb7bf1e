"""States for the attacker to attack with: coins the bank really issued it, on the ledger."""

from __future__ import annotations

from attacks.network import ATTACKER, BANK, CURRENCY, AttackNetwork
from dlt.crypto import SecureHash

BATCH = 2_000
"""Coins per issuance transaction (cordapp_bench allows 5,000)."""
COIN = 100


async def attacker_coins(
    network: AttackNetwork, count: int, owner: str = ATTACKER, amount: int = COIN
) -> list[str]:
    """`count` coins of `amount` issued by the bank to `owner`, as state refs `txid:index`."""
    refs: list[str] = []
    async with network.rpc(BANK) as bank:
        while len(refs) < count:
            size = min(BATCH, count - len(refs))
            issued = await bank.run_flow(
                "bench.IssuePaymentBatch",
                {"owner": owner, "count": size, "amount": amount, "currency": CURRENCY},
            )
            assert issued is not None
            tx_id = issued.decode()
            assert isinstance(tx_id, SecureHash)
            refs.extend(f"{tx_id}:{index}" for index in range(size))
    return refs
