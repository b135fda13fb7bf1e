"""The network parameters: rules every node follows, which transactions pin by hash.

They live with the ledger, not the node, because verification reads them: a contract asks
which keys the network trusts for a purpose (the market operator's, for market rules), and
the answer must be the same on every node and for as long as the transaction exists.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from dlt import PLATFORM_VERSION
from dlt.crypto import CompositeKey, CompositeKeyError, PublicKey, SecureHash
from dlt.encoding import encode, serializable
from dlt.identity import Party
from dlt.ledger.states import LedgerModel


@serializable("node.NotaryInfo")
class NotaryInfo(LedgerModel):
    """A notary service: its identity, whether it validates, and its replicas.

    A single-replica service is the node `identity` names. A cluster of n = 3f+1 replicas has
    an identity whose key is exactly the composite of the replicas' keys with threshold n - f,
    and `replicas` lists the replica nodes a client sends requests to."""

    identity: Party
    validating: bool = False
    replicas: tuple[Party, ...] = ()

    @model_validator(mode="after")
    def _identity_is_the_replicas_composite(self) -> Self:
        problem = self.cluster_problem()
        if problem is not None:
            raise ValueError(problem)
        return self

    def cluster_problem(self) -> str | None:
        """Why the service key is not what its replicas make, or None. A service key with a
        lower threshold, or more keys than the replicas, would let fewer replicas than a
        quorum, or keys outside the cluster, notarise in its name."""
        if not self.replicas:
            return None
        names = [replica.name for replica in self.replicas]
        if len(set(names)) != len(names):
            return f"notary {self.identity.name} lists a replica more than once"
        try:
            expected = CompositeKey.build(
                [replica.owning_key for replica in self.replicas], threshold=self.quorum
            )
        except CompositeKeyError as exc:
            return f"notary {self.identity.name} has replicas that make no composite key: {exc}"
        if self.identity.owning_key != expected:
            return (
                f"notary {self.identity.name}'s key is not the composite of its "
                f"{len(self.replicas)} replicas' keys with threshold {self.quorum} (n - f); "
                "the parameters are inconsistent and are refused"
            )
        return None

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
    trusted_signers: dict[str, tuple[PublicKey, ...]] = Field(default_factory=dict)
    """Keys the network trusts for a purpose, such as "energy.market-rules": fixed by the
    network's operator, never by whoever speaks first."""
    epoch: int = Field(default=1, ge=1)

    @field_validator("trusted_signers")
    @classmethod
    def _purposes_name_keys(
        cls, signers: dict[str, tuple[PublicKey, ...]]
    ) -> dict[str, tuple[PublicKey, ...]]:
        for purpose, keys in signers.items():
            if not purpose or not keys:
                raise ValueError(f"trusted signers for {purpose!r} name no key")
        return signers

    @property
    def hash(self) -> SecureHash:
        return SecureHash.sha256(encode(self))

    def signers_for(self, purpose: str) -> tuple[PublicKey, ...]:
        """The keys trusted for `purpose`; none when the network names none."""
        return self.trusted_signers.get(purpose, ())

    def with_trusted_signer(self, purpose: str, key: PublicKey) -> NetworkParameters:
        """These parameters with `key` trusted for `purpose` too (same epoch)."""
        keys = self.signers_for(purpose)
        if key in keys:
            return self
        return self.model_copy(
            update={"trusted_signers": {**self.trusted_signers, purpose: (*keys, key)}}
        )
