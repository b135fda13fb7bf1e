"""Notary change: moving states to another notary without touching anything else.

A notary-change transaction consumes states under the old notary, which notarises it, and
recreates each of them, unchanged but for the notary, at the same position. Every participant
of the states signs. No contract runs: nothing but the notary changes, so no rule can break.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlt.encoding import serializable
from dlt.identity import Party
from dlt.ledger.commands import CommandData
from dlt.ledger.errors import NotaryMismatchError

if TYPE_CHECKING:
    from dlt.ledger.ledger_transaction import LedgerTransaction


@serializable("dlt.NotaryChange")
class NotaryChange(CommandData):
    """Move the transaction's inputs to `new_notary`."""

    new_notary: Party


def is_notary_change(tx: LedgerTransaction) -> bool:
    return len(tx.commands) == 1 and isinstance(tx.commands[0].value, NotaryChange)


def verify_notary_change(tx: LedgerTransaction) -> None:
    command = tx.commands[0]
    assert isinstance(command.value, NotaryChange)
    new_notary = command.value.new_notary
    if new_notary == tx.notary:
        raise NotaryMismatchError(tx.id, "a notary change must move states to another notary")
    if len(tx.inputs) != len(tx.outputs) or not tx.inputs:
        raise NotaryMismatchError(
            tx.id, "a notary change recreates each input, in order, as one output"
        )
    for sar, output in zip(tx.inputs, tx.outputs, strict=True):
        moved = sar.state.model_copy(update={"notary": new_notary})
        if output != moved:
            raise NotaryMismatchError(
                tx.id,
                f"output for {sar.ref} must equal the input with only the notary changed to "
                f"{new_notary.name}",
            )
        for participant in sar.state.data.participants:
            if participant.owning_key not in command.signers:
                raise NotaryMismatchError(
                    tx.id, f"participant {participant} of {sar.ref} must sign the notary change"
                )
    if tx.references:
        raise NotaryMismatchError(tx.id, "a notary change has no reference states")
