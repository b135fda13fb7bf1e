"""A Corda-style permissioned distributed ledger for peer-to-peer energy trading."""

__version__ = "0.1.0"

PLATFORM_VERSION = 2
"""Bumped when the wire format or ledger rules change; nodes advertise it in their NodeInfo."""
