"""Parties: who owns states and signs transactions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dlt.crypto import PublicKey
from dlt.encoding import serializable
from dlt.identity.x500 import X500Name


class AbstractParty(BaseModel):
    """Anything that can own a state or be a participant: a key, possibly with a name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owning_key: PublicKey

    def anonymise(self) -> AnonymousParty:
        return AnonymousParty(owning_key=self.owning_key)


@serializable("AnonymousParty")
class AnonymousParty(AbstractParty):
    """A party known only by its key (a confidential identity)."""

    def __str__(self) -> str:
        return f"Anonymous({self.owning_key.fingerprint.prefix(12)})"


@serializable("Party")
class Party(AbstractParty):
    """A well-known legal identity: an X.500 name and the key that signs for it."""

    name: X500Name

    def __str__(self) -> str:
        return str(self.name)
