"""One flow per benchmark workload. Each consumes states of its own node only, so the
transaction involves that node and the notary: the layer the workload names, no more."""

from __future__ import annotations

from pydantic import Field

from cordapp_bench.contracts import MAX_SORT_SIZE, CpuHeavy, DoNothing, IoHeavy, KvUpdate, Smallbank
from cordapp_bench.states import AccountState, KvRecord, SlotState
from cordapp_bench.work import (
    ACCOUNTS_OF,
    SmallbankOp,
    SmallbankRefused,
    apply_smallbank,
    sorted_checksum,
)
from dlt.crypto import SecureHash
from dlt.flows import FlowException, FlowLogic, flow
from dlt.flows.library import FinalityFlow
from dlt.ledger import CommandData, SignedTransaction, StateAndRef, StateRef, TransactionBuilder
from dlt.vault import (
    CustomColumnCriteria,
    InsufficientStatesError,
    Operator,
    PageSpecification,
    QueryCriteria,
    VaultQueryCriteria,
)


async def _lock(flow: FlowLogic[object], criteria: QueryCriteria, count: int) -> list[StateAndRef]:
    """Select and soft-lock `count` of our states matching `criteria`, journaled."""
    vault = flow.services.vault
    try:
        return await flow.durable(
            "bench.select",
            lambda s: vault.select_and_lock(s, flow.flow_id, criteria, limit=count),
        )
    except InsufficientStatesError as exc:
        raise FlowException(f"the states to change are not available ({exc})") from exc


async def _finalise(flow: FlowLogic[object], builder: TransactionBuilder) -> SignedTransaction:
    return await flow.sub_flow(FinalityFlow(stx=flow.sign_initial(builder)))


class _SlotFlow(FlowLogic[SecureHash]):
    """Consume one of our slots and create its successor under `_command`."""

    def _command(self, slot: SlotState) -> tuple[CommandData, int]:
        """The command, and the successor's checksum (unchanged unless the command says)."""
        return DoNothing(), slot.checksum

    def _extra_outputs(self, builder: TransactionBuilder) -> None:
        """Outputs besides the slot's successor."""

    async def call(self) -> SecureHash:
        (slot,) = await _lock(self, VaultQueryCriteria(state_types=(SlotState,)), 1)
        state = slot.state.data
        command, checksum = self._command(state)
        builder = TransactionBuilder()
        builder.add_input_state(slot)
        builder.add_output_state(
            state.model_copy(update={"serial": state.serial + 1, "checksum": checksum})
        )
        self._extra_outputs(builder)
        builder.add_command(command, self.our_identity.owning_key)
        stx = await _finalise(self, builder)
        await self._after(stx)
        return stx.id

    async def _after(self, stx: SignedTransaction) -> None:
        """Work after the transaction is recorded."""


@flow("bench.DoNothing", initiating=True, rpc=True)
class DoNothingFlow(_SlotFlow):
    """BLOCKBENCH DoNothing: a notarised transaction whose contract checks only its shape."""


@flow("bench.CpuHeavy", initiating=True, rpc=True)
class CpuHeavyFlow(_SlotFlow):
    """BLOCKBENCH CPUHeavy: the node sorts `size` numbers, the contract sorts them again and
    checks the result the successor slot carries."""

    size: int = Field(default=100_000, gt=0, le=MAX_SORT_SIZE)

    def _command(self, slot: SlotState) -> tuple[CommandData, int]:
        seed = int.from_bytes(self.random_bytes(8), "big")
        return CpuHeavy(size=self.size, seed=seed), sorted_checksum(self.size, seed)


@flow("bench.IoHeavy", initiating=True, rpc=True)
class IoHeavyFlow(_SlotFlow):
    """BLOCKBENCH IOHeavy: `writes` new records in the transaction, then all read back."""

    writes: int = Field(default=20, gt=0, le=10_000)

    def _command(self, slot: SlotState) -> tuple[CommandData, int]:
        return IoHeavy(writes=self.writes), slot.checksum

    def _extra_outputs(self, builder: TransactionBuilder) -> None:
        for n in range(self.writes):
            builder.add_output_state(
                KvRecord(owner=self.our_identity, key=f"io-{self.flow_id}-{n}", value=f"{n:08x}")
            )

    async def _after(self, stx: SignedTransaction) -> None:
        refs = tuple(StateRef(txhash=stx.id, index=i) for i in range(1, self.writes + 1))
        criteria = VaultQueryCriteria(state_types=(KvRecord,), refs=refs)
        vault = self.services.vault
        page = await self.services.db.read(
            lambda s: vault.query_in(s, criteria, PageSpecification(1, self.writes))
        )
        if len(page.states) != self.writes:
            raise FlowException(f"read back {len(page.states)} of {self.writes} records written")


@flow("bench.KvUpdate", initiating=True, rpc=True)
class KvUpdateFlow(FlowLogic[SecureHash]):
    """YCSB update: the record `key` gets `value` as its next version."""

    key: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=4096)

    async def call(self) -> SecureHash:
        criteria = CustomColumnCriteria(KvRecord, "key", Operator.EQ, self.key)
        (record,) = await _lock(self, criteria, 1)
        state = record.state.data
        builder = TransactionBuilder()
        builder.add_input_state(record)
        builder.add_output_state(
            state.model_copy(update={"value": self.value, "version": state.version + 1})
        )
        builder.add_command(KvUpdate(), self.our_identity.owning_key)
        return (await _finalise(self, builder)).id


@flow("bench.Smallbank", initiating=True, rpc=True)
class SmallbankFlow(FlowLogic[SecureHash]):
    """One Smallbank write on our accounts of `customers` (two for payments and amalgamate)."""

    op: SmallbankOp
    customers: tuple[int, ...]
    amount: int = 0

    async def call(self) -> SecureHash:
        if len(self.customers) != ACCOUNTS_OF[self.op] or len(set(self.customers)) != len(
            self.customers
        ):
            raise FlowException(f"{self.op} takes {ACCOUNTS_OF[self.op]} distinct customers")
        criteria = CustomColumnCriteria(AccountState, "customer", Operator.IN, self.customers)
        locked = await _lock(self, criteria, len(self.customers))
        by_customer = {sar.state.data.customer: sar for sar in locked}
        accounts = [by_customer[c] for c in self.customers]
        try:
            balances = apply_smallbank(
                self.op,
                [(a.state.data.checking, a.state.data.savings) for a in accounts],
                self.amount,
            )
        except SmallbankRefused as refused:
            raise FlowException(str(refused)) from refused
        builder = TransactionBuilder()
        for account, (checking, savings) in zip(accounts, balances, strict=True):
            builder.add_input_state(account)
            builder.add_output_state(
                account.state.data.model_copy(update={"checking": checking, "savings": savings})
            )
        command = Smallbank(op=self.op, customers=self.customers, amount=self.amount)
        builder.add_command(command, self.our_identity.owning_key)
        return (await _finalise(self, builder)).id
