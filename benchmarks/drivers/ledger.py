"""BLOCKBENCH, YCSB and Smallbank through the benchmark CorDapp's flows and the vault's RPC."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from benchmarks.loadgen import Context, Driver, WorkloadError
from cordapp_bench.work import SmallbankOp
from dlt.rpc.client import ColumnCondition, VaultQuery


@dataclass
class FlowDriver(Driver):
    """One flow with fixed arguments, started on `nodes` in turn (DoNothing, CPUHeavy,
    IOHeavy, notary-only)."""

    label: str
    flow: str
    nodes: tuple[str, ...]
    arguments: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mix = ((self.label, 1),)

    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        await ctx.rpc(self.nodes[seq % len(self.nodes)]).run_flow(self.flow, self.arguments)


YCSB_READ_SHARE = {"A": 50, "B": 95, "C": 100}
"""YCSB core workloads A (update heavy), B (read mostly), C (read only)."""


@dataclass
class YcsbDriver(Driver):
    """YCSB over key-value states: a read is a vault query for one key through the node's
    RPC; an update replaces the key's record with a new version in a notarised transaction.
    Keys are chosen uniformly among `records` per node."""

    workload: str
    nodes: tuple[str, ...]
    records: int
    value_size: int = 100

    def __post_init__(self) -> None:
        reads = YCSB_READ_SHARE[self.workload]
        self.mix = (
            (("read", reads),) if reads == 100 else (("read", reads), ("update", 100 - reads))
        )

    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        node = ctx.rpc(self.nodes[seq % len(self.nodes)])
        key = f"user{rng.randrange(self.records)}"
        if label == "read":
            page = await node.vault_query(
                VaultQuery(
                    state_types=("bench.KvRecord",),
                    conditions=(ColumnCondition("key", "==", key),),
                    page_size=1,
                )
            )
            if len(page.states) != 1:
                raise WorkloadError(f"record {key} not found")
            return
        value = "".join(rng.choices(string.ascii_letters, k=self.value_size))
        await node.run_flow("bench.KvUpdate", {"key": key, "value": value})


SMALLBANK_MIX = (
    ("Amalgamate", 15),
    ("Balance", 15),
    ("DepositChecking", 15),
    ("SendPayment", 25),
    ("TransactSavings", 15),
    ("WriteCheck", 15),
)
_OPS = {
    "Amalgamate": SmallbankOp.AMALGAMATE,
    "DepositChecking": SmallbankOp.DEPOSIT_CHECKING,
    "SendPayment": SmallbankOp.SEND_PAYMENT,
    "TransactSavings": SmallbankOp.TRANSACT_SAVINGS,
    "WriteCheck": SmallbankOp.WRITE_CHECK,
}


@dataclass
class SmallbankDriver(Driver):
    """Smallbank's standard mix over account states, customers chosen uniformly among
    `accounts` per node; Balance is a vault query, the rest notarised transactions."""

    nodes: tuple[str, ...]
    accounts: int
    mix: tuple[tuple[str, int], ...] = SMALLBANK_MIX

    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        node = ctx.rpc(self.nodes[seq % len(self.nodes)])
        first, second = rng.sample(range(self.accounts), 2)
        if label == "Balance":
            page = await node.vault_query(
                VaultQuery(
                    state_types=("bench.Account",),
                    conditions=(ColumnCondition("customer", "==", str(first)),),
                    page_size=1,
                )
            )
            if len(page.states) != 1:
                raise WorkloadError(f"account {first} not found")
            return
        op = _OPS[label]
        two = op in (SmallbankOp.SEND_PAYMENT, SmallbankOp.AMALGAMATE)
        amount = {
            SmallbankOp.DEPOSIT_CHECKING: rng.randint(1, 100),
            SmallbankOp.TRANSACT_SAVINGS: rng.randint(-20, 100),
            SmallbankOp.WRITE_CHECK: rng.randint(1, 50),
            SmallbankOp.SEND_PAYMENT: rng.randint(1, 50),
            SmallbankOp.AMALGAMATE: 0,
        }[op]
        await node.run_flow(
            "bench.Smallbank",
            {"op": op.value, "customers": [first, second] if two else [first], "amount": amount},
        )
