"""PaymentContract: issue money, pay it on conserving every issuer's currency, and exit it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import Field

from cordapp_energy.contracts.common import require_signer, single_command
from cordapp_energy.errors import ConservationViolation, ShapeViolation
from cordapp_energy.states import PAYMENT_CONTRACT, PaymentState
from cordapp_energy.units import Currency
from dlt.encoding import serializable
from dlt.identity import Party
from dlt.ledger import CommandData, CommandWithParties, Contract, LedgerTransaction, contract

Token = tuple[Party, Currency]


@serializable("energy.IssuePayment")
class IssuePayment(CommandData):
    """Create money: no payment inputs; every output's issuer signs."""


@serializable("energy.Pay")
class Pay(CommandData):
    """Move money: amounts conserved per (issuer, currency); every input's owner signs."""


@serializable("energy.Exit")
class Exit(CommandData):
    """Destroy `amount` of `issuer`'s `currency` (redeemed off ledger): issuer and owners sign."""

    issuer: Party
    currency: Currency
    amount: int = Field(gt=0, strict=True)


PAYMENT_COMMANDS: tuple[type[CommandData], ...] = (IssuePayment, Pay, Exit)


def totals(states: Iterable[PaymentState]) -> Counter[Token]:
    """Amounts per (issuer, currency): money of different issuers never mixes."""
    sums: Counter[Token] = Counter()
    for state in states:
        sums[state.token] += state.amount
    return sums


@contract(PAYMENT_CONTRACT)
class PaymentContract(Contract):
    """Money is conserved exactly, created by its issuer and destroyed only with its consent."""

    def verify(self, tx: LedgerTransaction) -> None:
        command = single_command(tx, PAYMENT_COMMANDS, "payment contract")
        inputs = tx.inputs_of_type(PaymentState)
        outputs = tx.outputs_of_type(PaymentState)
        value = command.value
        if isinstance(value, IssuePayment):
            _verify_issue(command, inputs, outputs)
        elif isinstance(value, Pay):
            _verify_pay(command, inputs, outputs)
        elif isinstance(value, Exit):
            _verify_exit(command, value, inputs, outputs)


def _verify_issue(
    command: CommandWithParties, inputs: list[PaymentState], outputs: list[PaymentState]
) -> None:
    if inputs:
        raise ShapeViolation(
            f"issuing money consumes no payment states; found {len(inputs)} payment inputs"
        )
    if not outputs:
        raise ShapeViolation("issuing money creates at least one payment state; found none")
    for state in outputs:
        require_signer(command, state.issuer, "the payment issuer")


def _require_owners_sign(command: CommandWithParties, inputs: list[PaymentState]) -> None:
    for state in inputs:
        require_signer(command, state.owner, "the payment's owner")


def _verify_pay(
    command: CommandWithParties, inputs: list[PaymentState], outputs: list[PaymentState]
) -> None:
    if not inputs:
        raise ShapeViolation("a payment spends at least one payment state; found none")
    _require_conserved(totals(inputs), totals(outputs), "a payment")
    _require_owners_sign(command, inputs)


def _verify_exit(
    command: CommandWithParties,
    exit_: Exit,
    inputs: list[PaymentState],
    outputs: list[PaymentState],
) -> None:
    if not inputs:
        raise ShapeViolation("an exit destroys money held in payment states; found no inputs")
    require_signer(command, exit_.issuer, "the payment issuer")
    _require_owners_sign(command, inputs)
    token = (exit_.issuer, exit_.currency)
    before = totals(inputs)
    if before[token] < exit_.amount:
        raise ConservationViolation(
            f"an exit of {exit_.amount} {exit_.currency} issued by {exit_.issuer} spends only "
            f"{before[token]} of that money; exit at most what the inputs hold"
        )
    before[token] -= exit_.amount
    _require_conserved(before, totals(outputs), f"an exit of {exit_.amount} {exit_.currency}")


def _require_conserved(expected: Counter[Token], actual: Counter[Token], what: str) -> None:
    for token in sorted(set(expected) | set(actual), key=lambda t: (t[1], str(t[0]))):
        issuer, currency = token
        if expected[token] != actual[token]:
            raise ConservationViolation(
                f"{what} must conserve money per issuer and currency: {currency} issued by "
                f"{issuer} should total {expected[token]} in the outputs, not {actual[token]}"
            )
