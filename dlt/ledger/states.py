"""States: the immutable facts on the ledger, and references to where they were created."""

from __future__ import annotations

import uuid
from abc import abstractmethod
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, model_validator

from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger.constraints import AttachmentConstraint


class LedgerModel(BaseModel):
    """Base of ledger data: frozen, no unknown fields, values checked on construction."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class ContractState(LedgerModel):
    """A fact shared by its participants. Subclasses register with `@serializable(name)`.

    `contract_name` names the one contract a state of this class belongs to (Corda's
    `@BelongsToContract`): a transaction that labels the state with any other contract is
    invalid, or a party could create someone else's asset under a contract that does not
    ask for its issuer's signature.
    """

    contract_name: ClassVar[str | None] = None

    @property
    @abstractmethod
    def participants(self) -> tuple[AbstractParty, ...]:
        """The parties whose vaults record this state."""


class OwnableState(ContractState):
    """A state with one owner who can move it."""

    owner: SerializeAsAny[AbstractParty]

    def with_new_owner(self, new_owner: AbstractParty) -> Self:
        return self.model_copy(update={"owner": new_owner})


@serializable("UniqueIdentifier")
class UniqueIdentifier(LedgerModel):
    """Identifies one linear thing (an order, an agreement) across its successive states."""

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    external_id: str | None = None

    @classmethod
    def from_bytes(cls, random16: bytes, external_id: str | None = None) -> UniqueIdentifier:
        """From 16 random bytes; flows pass bytes from the flow API so replays agree."""
        return cls(id=uuid.UUID(bytes=random16).hex, external_id=external_id)

    def __str__(self) -> str:
        return self.id if self.external_id is None else f"{self.external_id}_{self.id}"


class LinearState(ContractState):
    """A state that evolves over time while keeping one identity."""

    linear_id: UniqueIdentifier


@serializable("StateRef")
class StateRef(LedgerModel):
    """Output `index` of transaction `txhash`."""

    txhash: SecureHash
    index: int = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        """Accept the TXHASH:INDEX text form too, as flow arguments on a command line."""
        if isinstance(value, str):
            txhash, sep, index = value.rpartition(":")
            if not sep or not (index.isascii() and index.isdigit()):
                raise ValueError(f"a state reference looks like TXHASH:INDEX, got {value!r}")
            return {"txhash": txhash, "index": int(index)}
        return value

    @classmethod
    def parse(cls, text: str) -> StateRef:
        return cls.model_validate(text)

    def __str__(self) -> str:
        return f"{self.txhash}:{self.index}"


@serializable("TransactionState")
class TransactionState(LedgerModel):
    """A state as an output of a transaction: its contract, notary, encumbrance and constraint."""

    data: SerializeAsAny[ContractState]
    contract: str
    notary: Party
    encumbrance: int | None = Field(default=None, ge=0)
    constraint: SerializeAsAny[AttachmentConstraint]


@serializable("StateAndRef")
class StateAndRef(LedgerModel):
    """A state together with where it was created: what a transaction consumes."""

    state: TransactionState
    ref: StateRef
