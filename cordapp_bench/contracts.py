"""BenchContract: the rules of the benchmark states, one command per transaction.

Each command checks the shape its workload promises, so a benchmark transaction does the
work it claims (one notarised input, a real sort, W real writes, Smallbank's arithmetic).
"""

from __future__ import annotations

from pydantic import Field

from cordapp_bench.states import BENCH_CONTRACT, AccountState, KvRecord, SlotState
from cordapp_bench.work import SmallbankOp, SmallbankRefused, apply_smallbank, sorted_checksum
from dlt.encoding import serializable
from dlt.identity import Party
from dlt.ledger import (
    CommandData,
    CommandWithParties,
    Contract,
    ContractViolation,
    LedgerTransaction,
    contract,
)

MAX_SORT_SIZE = 2_000_000


@serializable("bench.Issue")
class Issue(CommandData):
    """Create benchmark states: nothing consumed, every output's owner signs."""


@serializable("bench.DoNothing")
class DoNothing(CommandData):
    """Consume one slot and create its successor: the cost of consensus and nothing else."""


@serializable("bench.CpuHeavy")
class CpuHeavy(CommandData):
    """DoNothing, plus: the successor's checksum is that of sorting `size` numbers from `seed`."""

    size: int = Field(gt=0, le=MAX_SORT_SIZE, strict=True)
    seed: int = Field(ge=0, strict=True)


@serializable("bench.IoHeavy")
class IoHeavy(CommandData):
    """DoNothing, plus `writes` new records."""

    writes: int = Field(gt=0, le=10_000, strict=True)


@serializable("bench.KvUpdate")
class KvUpdate(CommandData):
    """YCSB update: one record replaced by the next version of the same key."""


@serializable("bench.Smallbank")
class Smallbank(CommandData):
    """A Smallbank write on the accounts of `customers`, in that order."""

    op: SmallbankOp
    customers: tuple[int, ...]
    amount: int = Field(strict=True)


BENCH_COMMANDS = (Issue, DoNothing, CpuHeavy, IoHeavy, KvUpdate, Smallbank)
_BENCH_STATES = (SlotState, KvRecord, AccountState)


def _require_owner_signs(command: CommandWithParties, owners: list[Party]) -> None:
    for owner in owners:
        if owner.owning_key not in command.signers:
            raise ContractViolation(f"the owner {owner} must sign {type(command.value).__name__}")


def _successor_slot(tx: LedgerTransaction) -> tuple[SlotState, SlotState]:
    inputs, outputs = tx.inputs_of_type(SlotState), tx.outputs_of_type(SlotState)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ContractViolation("a slot transaction consumes one slot and creates one")
    before, after = inputs[0], outputs[0]
    if after.owner != before.owner or after.serial != before.serial + 1:
        raise ContractViolation("a slot's successor keeps its owner and counts its serial up")
    return before, after


@contract(BENCH_CONTRACT)
class BenchContract(Contract):
    def verify(self, tx: LedgerTransaction) -> None:
        commands = [c for c in tx.commands if isinstance(c.value, BENCH_COMMANDS)]
        if len(commands) != 1:
            raise ContractViolation("a benchmark transaction carries exactly one bench command")
        command = commands[0]
        value = command.value
        if isinstance(value, Issue):
            self._issue(tx, command)
        elif isinstance(value, DoNothing | CpuHeavy | IoHeavy):
            self._slot(tx, command, value)
        elif isinstance(value, KvUpdate):
            self._kv_update(tx, command)
        elif isinstance(value, Smallbank):
            self._smallbank(tx, command, value)

    def _issue(self, tx: LedgerTransaction, command: CommandWithParties) -> None:
        if any(isinstance(s, _BENCH_STATES) for s in tx.input_states):
            raise ContractViolation("issuing consumes no benchmark states")
        issued = [s for s in tx.output_states if isinstance(s, _BENCH_STATES)]
        if not issued:
            raise ContractViolation("issuing creates at least one benchmark state")
        _require_owner_signs(command, [s.owner for s in issued])

    def _slot(self, tx: LedgerTransaction, command: CommandWithParties, value: CommandData) -> None:
        before, after = _successor_slot(tx)
        _require_owner_signs(command, [before.owner])
        records_in, records_out = tx.inputs_of_type(KvRecord), tx.outputs_of_type(KvRecord)
        if isinstance(value, IoHeavy):
            if records_in or len(records_out) != value.writes:
                raise ContractViolation(f"IoHeavy writes exactly {value.writes} new records")
            if any(record.owner != before.owner for record in records_out):
                raise ContractViolation("IoHeavy writes records of the slot's owner")
            return
        if records_in or records_out:
            raise ContractViolation("only IoHeavy writes records")
        if isinstance(value, CpuHeavy):
            if after.checksum != sorted_checksum(value.size, value.seed):
                raise ContractViolation("the slot's checksum is not that of the sorted numbers")
        elif after.checksum != before.checksum:
            raise ContractViolation("DoNothing changes nothing but the serial")

    def _kv_update(self, tx: LedgerTransaction, command: CommandWithParties) -> None:
        inputs, outputs = tx.inputs_of_type(KvRecord), tx.outputs_of_type(KvRecord)
        if len(inputs) != 1 or len(outputs) != 1:
            raise ContractViolation("an update replaces one record with one")
        before, after = inputs[0], outputs[0]
        if (after.key, after.owner, after.version) != (
            before.key,
            before.owner,
            before.version + 1,
        ):
            raise ContractViolation("an update keeps the key and owner and counts the version up")
        _require_owner_signs(command, [before.owner])

    def _smallbank(
        self, tx: LedgerTransaction, command: CommandWithParties, value: Smallbank
    ) -> None:
        inputs = {a.customer: a for a in tx.inputs_of_type(AccountState)}
        outputs = {a.customer: a for a in tx.outputs_of_type(AccountState)}
        if len(set(value.customers)) != len(value.customers) or not (
            set(inputs) == set(outputs) == set(value.customers)
        ):
            raise ContractViolation("a Smallbank write replaces exactly the named accounts")
        before = [inputs[c] for c in value.customers]
        try:
            expected = apply_smallbank(
                value.op, [(a.checking, a.savings) for a in before], value.amount
            )
        except SmallbankRefused as refused:
            raise ContractViolation(str(refused)) from refused
        for account, (checking, savings) in zip(before, expected, strict=True):
            after = outputs[account.customer]
            if (after.owner, after.checking, after.savings) != (account.owner, checking, savings):
                raise ContractViolation(f"account {account.customer} does not end as {value.op}")
        _require_owner_signs(command, [a.owner for a in before])
