"""What the network knows about a node, and the parameters every node agrees on."""

from __future__ import annotations

from pydantic import Field

from dlt import PLATFORM_VERSION
from dlt.crypto import PublicKey, SecureHash
from dlt.encoding import encode, serializable
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


@serializable("node.NotaryInfo")
class NotaryInfo(LedgerModel):
    """A notary service: its identity, whether it validates, and its replicas.

    A single-replica service is the node `identity` names. A cluster of n = 3f+1 replicas has
    an identity whose key is the composite of the replicas' keys with threshold 2f+1, and
    `replicas` lists the replica nodes a client sends requests to."""

    identity: Party
    validating: bool = False
    replicas: tuple[Party, ...] = ()

    @property
    def replica_parties(self) -> tuple[Party, ...]:
        return self.replicas or (self.identity,)

    @property
    def fault_tolerance(self) -> int:
        """f: how many replicas may be faulty, even maliciously, without harm."""
        return (len(self.replica_parties) - 1) // 3

    @property
    def quorum(self) -> int:
        """Replicas whose signatures make a notarisation: n - f (2f+1 when n = 3f+1)."""
        return len(self.replica_parties) - self.fault_tolerance


@serializable("node.NetworkParameters")
class NetworkParameters(LedgerModel):
    """Rules every node on the network follows; transactions pin them by hash."""

    minimum_platform_version: int = PLATFORM_VERSION
    notaries: tuple[NotaryInfo, ...] = ()
    max_message_size: int = 10 * 1024 * 1024
    max_transaction_size: int = 10 * 1024 * 1024
    trusted_attachment_signers: tuple[PublicKey, ...] = ()
    epoch: int = Field(default=1, ge=1)

    @property
    def hash(self) -> SecureHash:
        return SecureHash.sha256(encode(self))
