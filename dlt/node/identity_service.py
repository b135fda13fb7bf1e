"""Who is who: well-known parties by name and key, kept in memory and fed by the network map."""

from __future__ import annotations

from collections.abc import Iterable

from dlt.crypto import PublicKey
from dlt.identity import AbstractParty, Party, X500Name


class UnknownPartyError(LookupError):
    """A name or key that no node on the network map has."""


class IdentityService:
    def __init__(self, parties: Iterable[Party] = ()) -> None:
        self._by_name: dict[X500Name, Party] = {}
        self._by_key: dict[PublicKey, Party] = {}
        for party in parties:
            self.register(party)

    def register(self, party: Party) -> None:
        self._by_name[party.name] = party
        self._by_key[party.owning_key] = party
        for leaf in party.owning_key.leaf_keys:
            self._by_key.setdefault(leaf, party)

    def forget(self, party: Party) -> None:
        """Drop a party that left the network map (e.g. revoked), with every key mapped to it."""
        if self._by_name.get(party.name) == party:
            del self._by_name[party.name]
        for key in [key for key, owner in self._by_key.items() if owner == party]:
            del self._by_key[key]

    def register_confidential(self, key: PublicKey, owner: Party) -> None:
        """Remember that a fresh key belongs to `owner` (after checking its certificate)."""
        self._by_key[key] = owner

    def party_from_name(self, name: X500Name) -> Party | None:
        return self._by_name.get(name)

    def require_party(self, name: X500Name) -> Party:
        party = self._by_name.get(name)
        if party is None:
            raise UnknownPartyError(f"no party called {name} is on the network map")
        return party

    def party_from_key(self, key: PublicKey) -> Party | None:
        return self._by_key.get(key)

    def well_known(self, party: AbstractParty) -> Party | None:
        """The legal identity behind a party, anonymous or not."""
        if isinstance(party, Party):
            return party
        return self._by_key.get(party.owning_key)

    def describe(self, key: PublicKey) -> str | None:
        party = self._by_key.get(key)
        return str(party.name) if party is not None else None

    @property
    def parties(self) -> list[Party]:
        return list(self._by_name.values())
