"""Legal identities: X.500 names, parties, and the certificate hierarchy that admits them."""

from dlt.identity.party import AbstractParty, AnonymousParty, Party
from dlt.identity.x500 import InvalidX500NameError, X500Name

__all__ = ["AbstractParty", "AnonymousParty", "InvalidX500NameError", "Party", "X500Name"]
