"""Test support: deterministic identities and an in-memory ledger for unit tests."""

from dlt.testing.identities import TestIdentity, test_identity
from dlt.testing.ledger import InMemoryLedger

__all__ = ["InMemoryLedger", "TestIdentity", "test_identity"]
