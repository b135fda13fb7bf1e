"""The benchmark CorDapp's states: slots to notarise, key-value records and bank accounts.

Every state is owned by one party, its only participant, so a benchmark transaction involves
exactly the node that runs it and the notary: what it measures is the layer it names.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger import ContractState

BENCH_CONTRACT = "bench.BenchContract"


class _Owned(ContractState):
    contract_name: ClassVar[str | None] = BENCH_CONTRACT

    owner: Party

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.owner,)


@serializable("bench.Slot")
class SlotState(_Owned):
    """A token whose only purpose is to be consumed and replaced: one notarised input.

    `checksum` carries the result of the CPU-heavy contract's work, so the work is checked."""

    serial: int = Field(ge=0, strict=True)
    checksum: int = Field(default=0, ge=0, strict=True)


@serializable("bench.KvRecord")
class KvRecord(_Owned):
    """One YCSB record: a key and its value (a field of `len(value)` characters)."""

    key: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=4096)
    version: int = Field(default=0, ge=0, strict=True)


@serializable("bench.Account")
class AccountState(_Owned):
    """A Smallbank customer's account: a checking and a savings balance in minor units."""

    customer: int = Field(ge=0, strict=True)
    checking: int = Field(strict=True)
    savings: int = Field(ge=0, strict=True)
