"""Commands: what a transaction means to do, and whose signatures it needs for that."""

from __future__ import annotations

from pydantic import Field, SerializeAsAny

from dlt.crypto import PublicKey
from dlt.identity import Party
from dlt.ledger.states import LedgerModel


class CommandData(LedgerModel):
    """The payload of a command. Subclasses register with `@serializable(name)`."""


class Command(LedgerModel):
    """A command and the keys that must sign for it."""

    value: SerializeAsAny[CommandData]
    signers: tuple[PublicKey, ...] = Field(min_length=1)


class CommandWithParties(LedgerModel):
    """A command in a resolved transaction, with the well-known parties behind its signers."""

    value: SerializeAsAny[CommandData]
    signers: tuple[PublicKey, ...]
    signing_parties: tuple[Party, ...] = ()
