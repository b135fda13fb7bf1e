"""A notary replica that joined through the doorman learns its service from the parameters.

Its config names only the service (`notary.replica_of`); the operator formed the cluster from
the replicas' published legal identities, so the parameters list the service with our own
legal identity key among its replicas. Nothing else may make a node a replica: a config that
claims a service whose parameters do not list our key is refused before the node starts.
"""

from __future__ import annotations

from dlt.identity import Party, X500Name
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo


class NotAReplicaError(Exception):
    """The network parameters name no cluster of the configured service with this node's key."""


def service_of(parameters: NetworkParameters, replica_of: X500Name, us: Party) -> NotaryInfo:
    """The cluster `replica_of` of `parameters` that lists `us` (name and key) as a replica."""
    named = [notary for notary in parameters.notaries if notary.identity.name == replica_of]
    if not named:
        raise NotAReplicaError(
            f"the network parameters (epoch {parameters.epoch}) name no notary {replica_of}; "
            "the network operator forms the cluster with `python -m networkmap notary-cluster`"
        )
    for notary in named:
        if any(replica == us for replica in notary.replicas):
            return notary
    raise NotAReplicaError(
        f"the network parameters (epoch {parameters.epoch}) do not list {us.name} with this "
        f"node's legal identity key as a replica of {replica_of}; ask the network operator to "
        "form the cluster with this node's published identity"
    )
