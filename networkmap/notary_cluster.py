"""The operator forms a BFT notary cluster from replicas that joined through the doorman.

Each replica enrolled like any node and published its NodeInfo, signed by its own legal
identity key under the node CA the doorman issued it. The operator names the replicas; their
keys come only from those NodeInfos, checked again here against the doorman's own record, so no
key reaches the parameters that the doorman did not certify for that name. The cluster's
service key is the composite of the replicas' keys with threshold n - f (`cluster_info`), and
the network map issues parameters of a new epoch naming it, which running nodes pick up.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from dlt.identity import CertificatePathError, CertRole, Party, X500Name, cert_role, certs_from_pem
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.node.network_map_types import InvalidNodeInfoError, SignedNodeInfo
from networkmap.bootstrap import NetworkHome, cluster_info
from networkmap.doorman import Doorman, Registration, UnknownNodeError
from networkmap.network_map import NetworkMapService


class NotaryClusterError(Exception):
    """The cluster cannot be formed as asked; the message names the replica and what to do."""


def replica_party(
    name: X500Name,
    signed: SignedNodeInfo | None,
    registration: Registration,
    root_cert: x509.Certificate,
) -> Party:
    """`name`'s legal identity, from its published NodeInfo, if that verifies to the root and
    its node CA is exactly the one the doorman issued `name`."""
    if signed is None:
        raise NotaryClusterError(
            f"{name} has not published its NodeInfo; it does so at `dlt node enrol`"
        )
    try:
        info = signed.verify(root_cert)
        node_cas = [c for c in signed.identity_chain if cert_role(c) is CertRole.NODE_CA]
    except (InvalidNodeInfoError, CertificatePathError) as exc:
        raise NotaryClusterError(f"the NodeInfo of {name} does not verify: {exc}") from exc
    issued = certs_from_pem(registration.certificate_chain_pem or b"")[:1]
    if info.name != name or node_cas != issued:
        raise NotaryClusterError(
            f"the legal identity {name} published is not certified by the node CA the doorman "
            "issued it; the replica must enrol with this doorman and publish again"
        )
    return info.legal_identity


def form_notary_cluster(
    home: NetworkHome,
    service: X500Name,
    replicas: Sequence[X500Name],
    *,
    validating: bool = False,
) -> tuple[NotaryInfo, NetworkParameters]:
    """Name the cluster `service` of the admitted `replicas` in parameters of a new epoch."""
    if not replicas:
        raise NotaryClusterError("name the cluster's replicas with --replica (at least one)")
    if len(set(replicas)) != len(replicas):
        raise NotaryClusterError("a replica is named twice; name each replica once")
    if service in replicas:
        raise NotaryClusterError(f"{service} is the service; its replicas need names of their own")
    root = home.load_cert(home.root_cert)
    doorman = Doorman(home.database, root_cert=root, doorman_cert=home.load_cert(home.doorman_cert))
    if _is_admitted(doorman, service):
        raise NotaryClusterError(
            f"{service} is the name of an admitted node; a notary service needs a name of its own"
        )
    network_map = NetworkMapService(
        home.database,
        root_cert=root,
        doorman_cert=doorman.doorman_cert,
        network_map_cert=home.load_cert(home.network_map_cert),
        network_map_key=home.load_key(home.network_map_key),
        revocations=doorman,
    )
    parties = []
    for name in replicas:
        try:
            registration = doorman.admitted(name)
        except UnknownNodeError as exc:
            raise NotaryClusterError(f"cannot make {name} a replica: {exc}") from exc
        parties.append(
            replica_party(name, network_map.published_node_info(name), registration, root)
        )
    notary = cluster_info(service, validating, parties)
    return notary, network_map.advance_parameters(lambda current: with_notary(current, notary))


def with_notary(current: NetworkParameters, notary: NotaryInfo) -> NetworkParameters | None:
    """`current` also naming `notary`, or None when it already does. A service name or replica
    that is already a notary's is refused: changing a service's key would strand the states it
    notarised, and a replica serves one notary."""
    if notary in current.notaries:
        return None
    for held in current.notaries:
        if held.identity.name == notary.identity.name:
            raise NotaryClusterError(
                f"the parameters already name notary {held.identity.name} with another key or "
                "replicas; a different cluster needs a different service name"
            )
        taken = {p.name for p in held.replica_parties} & {p.name for p in notary.replica_parties}
        if taken:
            raise NotaryClusterError(
                f"{', '.join(sorted(str(n) for n in taken))} already serves notary "
                f"{held.identity.name}; a replica serves one notary"
            )
    return current.model_copy(update={"notaries": (*current.notaries, notary)})


def _is_admitted(doorman: Doorman, name: X500Name) -> bool:
    try:
        doorman.admitted(name)
    except UnknownNodeError:
        return False
    return True
