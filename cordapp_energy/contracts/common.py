"""Checks every energy CorDapp contract shares: one command, required signers, unchanged fields."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from cordapp_energy.errors import CommandViolation, FieldChangeViolation, SignerViolation
from dlt.identity import AbstractParty
from dlt.ledger import CommandData, CommandWithParties, LedgerTransaction


def single_command(
    tx: LedgerTransaction, kinds: tuple[type[CommandData], ...], contract: str
) -> CommandWithParties:
    """The one command of `kinds` in `tx`; a contract verifies one kind of change at a time."""
    found = [command for command in tx.commands if isinstance(command.value, kinds)]
    if len(found) != 1:
        names = ", ".join(kind.__name__ for kind in kinds)
        listed = ", ".join(type(command.value).__name__ for command in found) or "none"
        raise CommandViolation(
            f"the {contract} needs exactly one of its commands ({names}) per transaction; "
            f"found {listed}"
        )
    return found[0]


def require_signer(command: CommandWithParties, party: AbstractParty, role: str) -> None:
    """Refuse unless `party`'s key is one of the keys the command requires."""
    if party.owning_key not in command.signers:
        raise SignerViolation(
            f"{role} {party} must sign the {type(command.value).__name__} command; add their "
            "key to the command's signers and collect their signature"
        )


def same_party(a: AbstractParty, b: AbstractParty) -> bool:
    """Parties are the same owner when they hold the same key, named or anonymous."""
    return a.owning_key == b.owning_key


def changed_fields(before: BaseModel, after: BaseModel, allowed: Iterable[str] = ()) -> list[str]:
    """Names of fields that differ between two states, other than the `allowed` ones."""
    if type(before) is not type(after):
        return ["state type"]
    skip = set(allowed)
    return [
        name
        for name in type(before).model_fields
        if name not in skip and getattr(before, name) != getattr(after, name)
    ]


def require_unchanged(
    before: BaseModel, after: BaseModel, allowed: Iterable[str], action: str
) -> None:
    """Refuse a successor state that changes more than `action` may change."""
    allowed = tuple(allowed)
    changed = changed_fields(before, after, allowed)
    if changed:
        may = " and ".join(allowed) or "nothing"
        raise FieldChangeViolation(
            f"{action} may change only {may}; this one changes {', '.join(changed)}"
        )
