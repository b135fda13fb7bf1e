"""The deterministic work the benchmark contracts check: a sort, and Smallbank's rules.

Pure functions shared by the flows (which compute outputs) and the contract (which checks
the outputs equal what these functions give), so the rule is written once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

_MASK = (1 << 64) - 1
_MODULUS = (1 << 61) - 1


def sorted_checksum(size: int, seed: int) -> int:
    """Generate `size` pseudo-random integers from `seed`, sort them, and fold the sorted
    sequence into one number (BLOCKBENCH's CPUHeavy sorts an array inside the contract)."""
    state = seed & _MASK
    values = []
    for _ in range(size):
        state = (6364136223846793005 * state + 1442695040888963407) & _MASK
        values.append(state >> 33)
    values.sort()
    return sum(rank * value for rank, value in enumerate(values, 1)) % _MODULUS


class SmallbankOp(enum.StrEnum):
    """The five Smallbank transactions that write (Balance only reads)."""

    DEPOSIT_CHECKING = "deposit-checking"
    TRANSACT_SAVINGS = "transact-savings"
    WRITE_CHECK = "write-check"
    SEND_PAYMENT = "send-payment"
    AMALGAMATE = "amalgamate"


ACCOUNTS_OF: dict[SmallbankOp, int] = {
    SmallbankOp.DEPOSIT_CHECKING: 1,
    SmallbankOp.TRANSACT_SAVINGS: 1,
    SmallbankOp.WRITE_CHECK: 1,
    SmallbankOp.SEND_PAYMENT: 2,
    SmallbankOp.AMALGAMATE: 2,
}
"""How many accounts each operation touches."""

Balances = tuple[int, int]
"""(checking, savings) of one account."""


class SmallbankRefused(ValueError):  # noqa: N818 - a refusal, as Smallbank's aborts are
    """The operation aborts under Smallbank's rules (overdrawn savings, insufficient funds)."""


def apply_smallbank(op: SmallbankOp, accounts: Sequence[Balances], amount: int) -> list[Balances]:
    """The balances after `op` on `accounts` (in the command's order), or SmallbankRefused."""
    if len(accounts) != ACCOUNTS_OF[op]:
        raise SmallbankRefused(f"{op} takes {ACCOUNTS_OF[op]} accounts, got {len(accounts)}")
    if amount < 0 and op is not SmallbankOp.TRANSACT_SAVINGS:
        raise SmallbankRefused(f"{op} needs a non-negative amount, got {amount}")
    if op is SmallbankOp.DEPOSIT_CHECKING:
        checking, savings = accounts[0]
        return [(checking + amount, savings)]
    if op is SmallbankOp.TRANSACT_SAVINGS:
        checking, savings = accounts[0]
        if savings + amount < 0:
            raise SmallbankRefused(f"savings of {savings} cannot pay {-amount}")
        return [(checking, savings + amount)]
    if op is SmallbankOp.WRITE_CHECK:
        checking, savings = accounts[0]
        penalty = 1 if checking + savings < amount else 0
        return [(checking - amount - penalty, savings)]
    (from_checking, from_savings), (to_checking, to_savings) = accounts
    if op is SmallbankOp.SEND_PAYMENT:
        if from_checking < amount:
            raise SmallbankRefused(f"checking of {from_checking} cannot send {amount}")
        return [(from_checking - amount, from_savings), (to_checking + amount, to_savings)]
    total = from_checking + from_savings
    return [(0, 0), (to_checking + total, to_savings)]
