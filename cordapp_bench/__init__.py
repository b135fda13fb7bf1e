"""The benchmark CorDapp: the states, contract and flows behind the BLOCKBENCH, YCSB and
Smallbank workloads of `benchmarks/`, and bulk seeding of vaults through real transactions.

Installed only on benchmark networks (the node config's `cordapps`); importing it registers
its ledger types, installs its contract and declares its vault columns.
"""

from cordapp_bench.contracts import (
    BENCH_COMMANDS,
    BenchContract,
    CpuHeavy,
    DoNothing,
    IoHeavy,
    Issue,
    KvUpdate,
    Smallbank,
)
from cordapp_bench.schemas import ACCOUNT_SCHEMA, KV_SCHEMA
from cordapp_bench.states import BENCH_CONTRACT, AccountState, KvRecord, SlotState
from cordapp_bench.work import SmallbankOp, SmallbankRefused, apply_smallbank, sorted_checksum

__all__ = [
    "ACCOUNT_SCHEMA",
    "BENCH_COMMANDS",
    "BENCH_CONTRACT",
    "KV_SCHEMA",
    "AccountState",
    "BenchContract",
    "CpuHeavy",
    "DoNothing",
    "IoHeavy",
    "Issue",
    "KvRecord",
    "KvUpdate",
    "SlotState",
    "Smallbank",
    "SmallbankOp",
    "SmallbankRefused",
    "apply_smallbank",
    "sorted_checksum",
]
