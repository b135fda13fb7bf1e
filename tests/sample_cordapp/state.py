"""A fungible token owned by one party."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SerializeAsAny

from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger import OwnableState


@serializable("test.TokenState")
class TokenState(OwnableState):
    contract_name: ClassVar[str | None] = "test.TokenContract"

    issuer: Party
    owner: SerializeAsAny[AbstractParty]
    amount: int = Field(gt=0)

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.owner,)
