"""Deterministic identities for tests: the same name always gives the same key."""

from __future__ import annotations

from dataclasses import dataclass

from dlt.crypto import Ed25519PrivateKey, PublicKey, SecureHash
from dlt.identity import Party, X500Name


@dataclass(frozen=True)
class TestIdentity:
    __test__ = False  # not a pytest test class

    party: Party
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> PublicKey:
        return self.party.owning_key

    @property
    def name(self) -> X500Name:
        return self.party.name


def test_identity(name: str) -> TestIdentity:
    """An identity whose key is derived from its name; never use such keys outside tests."""
    x500 = X500Name.parse(name)
    key = Ed25519PrivateKey.from_seed(SecureHash.sha256(str(x500).encode()).bytes)
    return TestIdentity(party=Party(name=x500, owning_key=key.public_key), key=key)


test_identity.__test__ = False  # type: ignore[attr-defined]
