"""The benchmark CorDapp's flows: seeding vaults in bulk, and one flow per workload."""

from cordapp_bench.flows.seeding import (
    IssuePaymentBatchFlow,
    IssueRecordsFlow,
    IssueSlotsFlow,
    OpenAccountsFlow,
)
from cordapp_bench.flows.workloads import (
    CpuHeavyFlow,
    DoNothingFlow,
    IoHeavyFlow,
    KvUpdateFlow,
    SmallbankFlow,
)

__all__ = [
    "CpuHeavyFlow",
    "DoNothingFlow",
    "IoHeavyFlow",
    "IssuePaymentBatchFlow",
    "IssueRecordsFlow",
    "IssueSlotsFlow",
    "KvUpdateFlow",
    "OpenAccountsFlow",
    "SmallbankFlow",
]
