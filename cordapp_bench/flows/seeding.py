"""Seeding vaults honestly and fast: issuance transactions with many outputs, through the
same flows, signatures, verification and recording as any other transaction."""

from __future__ import annotations

from abc import abstractmethod

from pydantic import Field

from cordapp_bench.contracts import Issue
from cordapp_bench.states import AccountState, KvRecord, SlotState
from cordapp_energy.contracts.payment import IssuePayment
from cordapp_energy.states import PaymentState
from cordapp_energy.units import Currency
from dlt.crypto import SecureHash
from dlt.flows import FlowLogic, FlowSession, flow, responder
from dlt.flows.library import FinalityFlow, ReceiveFinalityFlow, choose_notary
from dlt.identity import X500Name
from dlt.ledger import ContractState, TransactionBuilder

MAX_OUTPUTS = 5_000
"""Outputs per seeding transaction; a few thousand stay well inside the size limits."""


class _IssueOwnFlow(FlowLogic[int]):
    """Issue `count` benchmark states to ourselves in one transaction (no notary needed)."""

    count: int = Field(gt=0, le=MAX_OUTPUTS)

    @abstractmethod
    def _states(self) -> list[ContractState]:
        """The `count` states to issue: each subclass says which kind."""

    async def call(self) -> int:
        builder = TransactionBuilder(notary=choose_notary(self))
        for state in self._states():
            builder.add_output_state(state)
        builder.add_command(Issue(), self.our_identity.owning_key)
        await self.sub_flow(FinalityFlow(stx=self.sign_initial(builder)))
        return self.count


@flow("bench.IssueSlots", initiating=True, rpc=True)
class IssueSlotsFlow(_IssueOwnFlow):
    """Slots for DoNothing, CpuHeavy and IoHeavy: one per transaction that may run at once."""

    def _states(self) -> list[ContractState]:
        return [SlotState(owner=self.our_identity, serial=0) for _ in range(self.count)]


@flow("bench.IssueRecords", initiating=True, rpc=True)
class IssueRecordsFlow(_IssueOwnFlow):
    """YCSB records `key_prefix + n` for n in [first, first + count), each `value_size` long."""

    key_prefix: str = Field(default="user", max_length=32)
    first: int = Field(default=0, ge=0)
    value_size: int = Field(default=100, ge=0, le=4096)

    def _states(self) -> list[ContractState]:
        return [
            KvRecord(
                owner=self.our_identity,
                key=f"{self.key_prefix}{n}",
                value=_value(n, self.value_size),
            )
            for n in range(self.first, self.first + self.count)
        ]


@flow("bench.OpenAccounts", initiating=True, rpc=True)
class OpenAccountsFlow(_IssueOwnFlow):
    """Smallbank accounts for customers [first, first + count), with the opening balances."""

    first: int = Field(default=0, ge=0)
    checking: int = Field(default=10_000, ge=0)
    savings: int = Field(default=10_000, ge=0)

    def _states(self) -> list[ContractState]:
        return [
            AccountState(
                owner=self.our_identity,
                customer=n,
                checking=self.checking,
                savings=self.savings,
            )
            for n in range(self.first, self.first + self.count)
        ]


@flow("bench.IssuePaymentBatch", initiating=True, rpc=True)
class IssuePaymentBatchFlow(FlowLogic[SecureHash]):
    """The payment issuer issues `count` coins of `amount` to `owner` in one transaction of
    the energy CorDapp's own IssuePayment: the coins DvP trades select from."""

    owner: X500Name
    count: int = Field(gt=0, le=MAX_OUTPUTS)
    amount: int = Field(gt=0)
    currency: Currency

    async def call(self) -> SecureHash:
        owner = self.services.identity.require_party(self.owner)
        builder = TransactionBuilder(notary=choose_notary(self))
        for _ in range(self.count):
            builder.add_output_state(
                PaymentState(
                    amount=self.amount,
                    currency=self.currency,
                    issuer=self.our_identity,
                    owner=owner,
                )
            )
        builder.add_command(IssuePayment(), self.our_identity.owning_key)
        sessions = () if owner == self.our_identity else (self.initiate_flow(owner),)
        stx = await self.sub_flow(FinalityFlow(stx=self.sign_initial(builder), sessions=sessions))
        return stx.id


@responder(IssuePaymentBatchFlow)
class IssuePaymentBatchResponder(FlowLogic[None]):
    session: FlowSession

    async def call(self) -> None:
        await self.sub_flow(ReceiveFinalityFlow(session=self.session))


def _value(n: int, size: int) -> str:
    """A deterministic printable value of `size` characters for record `n`."""
    text = f"{n:x}"
    return (text * (size // len(text) + 1))[:size]
