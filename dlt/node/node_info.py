"""What the network knows about a node: its identity and where to reach it."""

from __future__ import annotations

from pydantic import Field

from dlt import PLATFORM_VERSION
from dlt.encoding import serializable
from dlt.identity import Party, X500Name
from dlt.ledger.states import LedgerModel


@serializable("node.NodeInfo")
class NodeInfo(LedgerModel):
    """A node's legal identity and where to reach it; the network map publishes it signed."""

    legal_identity: Party
    addresses: tuple[str, ...] = ()
    """Messaging addresses, e.g. an amqps URL with the inbox queue."""
    rpc_address: str | None = None
    platform_version: int = PLATFORM_VERSION
    serial: int = Field(default=1, ge=1)
    """Bumped on every change so the map keeps the newest."""

    @property
    def name(self) -> X500Name:
        return self.legal_identity.name
