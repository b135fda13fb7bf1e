"""Build a whole network offline: CAs, network parameters and every node's certificates.

A bootstrapped home is laid out as below (keys are PKCS#8 PEM, mode 0600; chains are leaf first
and end with the root). `python -m networkmap serve --home DIR` serves it; each node directory is
what a node process needs to start.

    ca/                         root.pem root.key doorman.pem doorman.key
                                network-map.pem network-map.key
    service/                    the network map service's own TLS identity
                                node-ca.pem node-ca.key tls.pem tls.key
    truststore.pem              the root certificate
    network-parameters.signed   SignedNetworkParameters (canonical encoding)
    networkmap.db               doorman and network map state (created by `serve`)
    networkmap.pid              while `serve` runs
    nodes/<slug>/               slug: the name's attributes, lower case, joined by '-'
        node.json               name, slug, broker user, notary role
        truststore.pem
        network-parameters.signed
        node-info.signed        SignedNodeInfo
        certificates/           node-ca.pem/.key, tls.pem/.key, identity.pem/.key

Every node CA is bound to its node's name by name constraints, and each node's TLS certificate
names exactly the node: the AMQP broker logs a node in as that subject (`broker_user_name`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from dlt.crypto import EcdsaP256PrivateKey, PrivateKey, PublicKey, load_private_key
from dlt.crypto.composite import CompositeKey
from dlt.encoding import DecodingError, decode, encode
from dlt.identity import (
    CertificateFormatError,
    CertRole,
    DevCertificateAuthority,
    NodeCertificates,
    Party,
    X500Name,
    cert_from_pem,
    certs_from_pem,
    issue_certificate,
)
from dlt.identity.hierarchy import (
    DEV_DOORMAN_NAME,
    DEV_NETWORK_MAP_NAME,
    DEV_ROOT_NAME,
    DEV_VALIDITY,
)
from dlt.identity.name_constraints import identity_host_name
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.certificate_store import save_node_certificates, write_private_key
from dlt.node.network_map_types import (
    SignedNetworkParameters,
    SignedNodeInfo,
    chain_to_pem,
)
from dlt.node.node_info import NodeInfo
from networkmap.doorman import Doorman

KEY_PASSWORD_ENV = "NETWORKMAP_KEY_PASSWORD"
"""Environment variable holding the password of the CA keys of a non-dev network."""

PRODUCTION_ORGANISATION = "DLT Energy Network"
SERVICE_NAME = X500Name("DLT Energy Dev", "London", "GB", common_name="Network Map Service")
DEFAULT_SERVICE_HOSTS = ("localhost", "127.0.0.1")
NODE_INFO_FIELDS = frozenset({"addresses", "rpc_address", "platform_version", "serial"})


class BootstrapError(Exception):
    """The network cannot be built as asked; the message says what to change."""


class NetworkHomeError(Exception):
    """A network home is missing a file or holds one that cannot be read."""


@dataclass(frozen=True)
class NetworkHome:
    """The paths of a network home; the bootstrapper writes them, the service reads them."""

    root: Path

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def root_cert(self) -> Path:
        return self.ca_dir / "root.pem"

    @property
    def root_key(self) -> Path:
        return self.ca_dir / "root.key"

    @property
    def doorman_cert(self) -> Path:
        return self.ca_dir / "doorman.pem"

    @property
    def doorman_key(self) -> Path:
        return self.ca_dir / "doorman.key"

    @property
    def network_map_cert(self) -> Path:
        return self.ca_dir / "network-map.pem"

    @property
    def network_map_key(self) -> Path:
        return self.ca_dir / "network-map.key"

    @property
    def service_dir(self) -> Path:
        return self.root / "service"

    @property
    def service_tls_chain(self) -> Path:
        return self.service_dir / "tls.pem"

    @property
    def service_tls_key(self) -> Path:
        return self.service_dir / "tls.key"

    @property
    def truststore(self) -> Path:
        return self.root / "truststore.pem"

    @property
    def network_parameters(self) -> Path:
        return self.root / "network-parameters.signed"

    @property
    def database(self) -> Path:
        return self.root / "networkmap.db"

    @property
    def pid_file(self) -> Path:
        return self.root / "networkmap.pid"

    @property
    def nodes_dir(self) -> Path:
        return self.root / "nodes"

    def meter_dir(self, household: X500Name) -> Path:
        """Where the bootstrapper keeps `household`'s meter: meter.pem and meter.key (the
        device's own key, which the household's node never holds)."""
        return self.root / "meters" / node_slug(household)

    def require(self, path: Path) -> Path:
        if not path.is_file():
            raise NetworkHomeError(
                f"{path} is missing; build the network home first with "
                f"`python -m networkmap bootstrap --home {self.root}`"
            )
        return path

    def load_cert(self, path: Path) -> x509.Certificate:
        try:
            return cert_from_pem(self.require(path).read_bytes())
        except CertificateFormatError as exc:
            raise NetworkHomeError(f"{path} is not a PEM certificate: {exc}") from exc

    def load_key(self, path: Path, password: bytes | None = None) -> PrivateKey:
        """Read a key; an encrypted one needs `password` (or the NETWORKMAP_KEY_PASSWORD env)."""
        pem = self.require(path).read_bytes()
        if b"ENCRYPTED" in pem.split(b"\n", 1)[0]:
            password = password or os.environ.get(KEY_PASSWORD_ENV, "").encode() or None
            if password is None:
                raise NetworkHomeError(
                    f"{path} is encrypted; set {KEY_PASSWORD_ENV} to the password given when "
                    "the network was bootstrapped"
                )
        else:
            password = None
        try:
            return load_private_key(pem, password)
        except ValueError as exc:
            raise NetworkHomeError(
                f"cannot read {path} ({exc}); check {KEY_PASSWORD_ENV} if it is encrypted"
            ) from exc

    def load_chain(self, path: Path) -> list[x509.Certificate]:
        try:
            return certs_from_pem(self.require(path).read_bytes())
        except CertificateFormatError as exc:
            raise NetworkHomeError(f"{path} is not a PEM certificate chain: {exc}") from exc

    def load_network_parameters(self) -> SignedNetworkParameters:
        try:
            return decode(
                self.require(self.network_parameters).read_bytes(), SignedNetworkParameters
            )
        except DecodingError as exc:
            raise NetworkHomeError(
                f"{self.network_parameters} is not encoded SignedNetworkParameters: {exc}"
            ) from exc


@dataclass(frozen=True)
class BootstrappedNode:
    """One node of a bootstrapped network, as written under nodes/<slug>/."""

    name: X500Name
    slug: str
    directory: Path
    broker_user: str
    node_info: NodeInfo
    signed_node_info: SignedNodeInfo
    certificates: NodeCertificates
    notary: NotaryInfo | None = None


@dataclass(frozen=True)
class BootstrapResult:
    """What `bootstrap_network` built; everything here is also on disk under `home`."""

    home: NetworkHome
    root_cert: x509.Certificate
    parameters: NetworkParameters
    signed_parameters: SignedNetworkParameters
    nodes: tuple[BootstrappedNode, ...] = field(default=())

    def node(self, name: X500Name) -> BootstrappedNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"{name} is not a node of this network")


def node_slug(name: X500Name) -> str:
    """A stable directory name: the name's attributes (O, OU, CN, L, ST, C), ASCII, lower case,
    joined by '-', e.g. 'O=Alice Solar, L=Leeds, C=GB' -> 'alice-solar-leeds-gb'."""
    parts = [
        name.organisation,
        name.organisation_unit,
        name.common_name,
        name.locality,
        name.state,
        name.country,
    ]
    text = "-".join(part for part in parts if part)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "node-" + identity_host_name(name).partition(".")[0]


def cluster_replica_name(service: X500Name, number: int) -> X500Name:
    """Replica `number` of notary service `service`: the same name with OU "Replica n"."""
    return X500Name(
        service.organisation,
        service.locality,
        service.country,
        organisation_unit=f"Replica {number}",
        state=service.state,
    )


def cluster_info(service: X500Name, validating: bool, replicas: Sequence[Party]) -> NotaryInfo:
    """A cluster's NotaryInfo: its identity's key needs n - f of the replicas' keys."""
    count = len(replicas)
    key = CompositeKey.build(
        [replica.owning_key for replica in replicas], threshold=count - (count - 1) // 3
    )
    return NotaryInfo(
        identity=Party(name=service, owning_key=key),
        validating=validating,
        replicas=tuple(replicas),
    )


def bootstrap_network(
    home: Path,
    *,
    notaries: Sequence[tuple[X500Name, bool]] = (),
    notary_clusters: Sequence[tuple[X500Name, bool, int]] = (),
    nodes: Sequence[X500Name] = (),
    dev: bool = True,
    node_info_fields: Mapping[X500Name, Mapping[str, Any]] | None = None,
    key_password: bytes | None = None,
    service_hosts: Sequence[str] = DEFAULT_SERVICE_HOSTS,
    minimum_platform_version: int | None = None,
    trusted_signers: Mapping[str, Sequence[X500Name]] | None = None,
    meters: Sequence[X500Name] = (),
    meters_since: datetime | None = None,
    doorman_trusted_for: Sequence[str] = (),
    validity: timedelta = DEV_VALIDITY,
    now: datetime | None = None,
) -> BootstrapResult:
    """Create the CAs, network parameters and node directories of a new network under `home`.

    Each `(name, validating)` in `notaries` is a single-node notary: a node whose legal
    identity is the notary identity in the parameters. Each `(name, validating, n)` in
    `notary_clusters` is a service of n replica nodes named `name` with OU "Replica i"; the
    service identity is `name` with the composite of the replicas' keys, threshold n - f.
    `node_info_fields` supplies NodeInfo fields (addresses, rpc_address, platform_version,
    serial) per node, since only the caller knows where nodes will listen. `trusted_signers`
    names, per purpose (such as "energy.market-rules"), the nodes whose legal identity keys
    the parameters trust for it. The doorman admits a meter (a METER certificate, written to
    `NetworkHome.meter_dir`) for each household in `meters`, certified from `meters_since`
    (when they were installed, by default now; a network that replays recorded readings dates
    them back, and its CAs with them); `doorman_trusted_for` names the
    purposes (such as "energy.meter-ca") the parameters trust the doorman's key for, so
    contracts can check a meter's role. A non-dev network
    needs `key_password`: its CA keys are stored encrypted. Refuses a home that already holds
    a network.
    """
    layout = NetworkHome(home)
    fields = dict(node_info_fields or {})
    replicas = {
        service: [cluster_replica_name(service, number) for number in range(1, count + 1)]
        for service, _, count in notary_clusters
    }
    all_nodes = [*nodes, *(name for names in replicas.values() for name in names)]
    names = _check_request(layout, notaries, all_nodes, dev, fields, key_password)
    validating = dict(notaries)

    organisation = DEV_ROOT_NAME.organisation if dev else PRODUCTION_ORGANISATION
    moment = now or datetime.now(UTC)
    # The CAs must already be valid when the meters were installed, to have admitted them.
    ca = DevCertificateAuthority.create(
        _replaced(DEV_ROOT_NAME, organisation=organisation),
        _replaced(DEV_DOORMAN_NAME, organisation=organisation),
        _replaced(DEV_NETWORK_MAP_NAME, organisation=organisation),
        validity=validity,
        now=meters_since if meters_since is not None and meters_since < moment else now,
    )
    enrolled = {name: ca.enrol_node(name, validity=validity, now=now) for name in names}

    notary_infos = tuple(
        NotaryInfo(identity=enrolled[name].party, validating=validating[name])
        for name, _ in notaries
    ) + tuple(
        cluster_info(service, cluster_validating, [enrolled[r].party for r in replicas[service]])
        for service, cluster_validating, _ in notary_clusters
    )
    signers = _trusted_signers(trusted_signers or {}, enrolled)
    for purpose in doorman_trusted_for:
        signers[purpose] = (*signers.get(purpose, ()), ca.doorman_key.public_key)
    parameter_fields: dict[str, Any] = {"notaries": notary_infos, "trusted_signers": signers}
    if minimum_platform_version is not None:
        parameter_fields["minimum_platform_version"] = minimum_platform_version
    parameters = NetworkParameters(**parameter_fields)
    network_map_chain = (ca.network_map_cert, ca.root_cert)
    signed_parameters = SignedNetworkParameters.sign(
        parameters, ca.network_map_key, network_map_chain
    )

    home.mkdir(parents=True, exist_ok=True)
    _write_ca(layout, ca, key_password)
    _write_service_identity(layout, ca, organisation, service_hosts, key_password, validity, now)
    doorman = Doorman(layout.database, root_cert=ca.root_cert, doorman_cert=ca.doorman_cert)
    for household in meters:
        meter = _write_meter(layout, ca, household, key_password, validity, meters_since or now)
        doorman.record_issued(household, meter, CertRole.METER)
    root_pem = chain_to_pem([ca.root_cert])
    layout.truststore.write_bytes(root_pem)
    parameters_bytes = encode(signed_parameters)
    layout.network_parameters.write_bytes(parameters_bytes)

    built = []
    for name in names:
        certs = enrolled[name]
        info = NodeInfo(legal_identity=certs.party, **fields.get(name, {}))
        signed_info = SignedNodeInfo.sign(
            info, certs.legal_identity_key, certs.legal_identity_chain
        )
        notary = next((n for n in notary_infos if certs.party in n.replica_parties), None)
        node = BootstrappedNode(
            name=name,
            slug=node_slug(name),
            directory=layout.nodes_dir / node_slug(name),
            broker_user=broker_user_name(name),
            node_info=info,
            signed_node_info=signed_info,
            certificates=certs,
            notary=notary,
        )
        _write_node(node, root_pem, parameters_bytes)
        doorman.record_bootstrapped(name, (certs.node_ca_cert, ca.doorman_cert, ca.root_cert))
        built.append(node)
    return BootstrapResult(
        home=layout,
        root_cert=ca.root_cert,
        parameters=parameters,
        signed_parameters=signed_parameters,
        nodes=tuple(built),
    )


def _trusted_signers(
    wanted: Mapping[str, Sequence[X500Name]], enrolled: Mapping[X500Name, NodeCertificates]
) -> dict[str, tuple[PublicKey, ...]]:
    signers = {}
    for purpose, names in wanted.items():
        unknown = [str(name) for name in names if name not in enrolled]
        if unknown:
            raise BootstrapError(
                f"trusted signers for {purpose} name nodes this network does not have: "
                f"{', '.join(unknown)}"
            )
        signers[purpose] = tuple(enrolled[name].party.owning_key for name in names)
    return signers


def _check_request(
    layout: NetworkHome,
    notaries: Sequence[tuple[X500Name, bool]],
    nodes: Sequence[X500Name],
    dev: bool,
    fields: Mapping[X500Name, Mapping[str, Any]],
    key_password: bytes | None,
) -> list[X500Name]:
    """Every node name once (notaries first), after checking the request makes sense."""
    if layout.ca_dir.exists() or layout.nodes_dir.exists():
        raise BootstrapError(
            f"{layout.root} already holds a network (ca/ or nodes/ exists); bootstrap into an "
            "empty directory, or delete the old network first"
        )
    if not dev and not key_password:
        raise BootstrapError(
            "a non-dev network's CA keys must be encrypted: pass key_password "
            f"(on the command line, set {KEY_PASSWORD_ENV})"
        )
    notary_names = [name for name, _ in notaries]
    if len(set(notary_names)) != len(notary_names):
        raise BootstrapError("a notary is listed twice; list each notary once")
    names = list(dict.fromkeys([*notary_names, *nodes]))
    unknown = [str(name) for name in fields if name not in names]
    if unknown:
        raise BootstrapError(
            f"node_info_fields names {', '.join(unknown)}, which are not nodes of this network"
        )
    for name, given in fields.items():
        extra = set(given) - NODE_INFO_FIELDS
        if extra:
            raise BootstrapError(
                f"node_info_fields for {name} sets {', '.join(sorted(extra))}; only "
                f"{', '.join(sorted(NODE_INFO_FIELDS))} may be given (the identity is certified)"
            )
    folded: dict[tuple[tuple[str, str], ...], X500Name] = {}
    for name in names:
        other = folded.setdefault(name.comparison_key(), name)
        if other != name:
            raise BootstrapError(
                f"{name} and {other} differ only in case or spacing, which TLS name matching "
                "ignores; make their names differ in letters"
            )
    slugs: dict[str, X500Name] = {}
    for name in names:
        other = slugs.setdefault(node_slug(name), name)
        if other != name:
            raise BootstrapError(
                f"{name} and {other} would share the directory nodes/{node_slug(name)}; make "
                "their names differ in letters or digits"
            )
    return names


def _replaced(name: X500Name, *, organisation: str) -> X500Name:
    return X500Name(
        organisation,
        name.locality,
        name.country,
        organisation_unit=name.organisation_unit,
        common_name=name.common_name,
        state=name.state,
    )


def _write_ca(layout: NetworkHome, ca: DevCertificateAuthority, password: bytes | None) -> None:
    layout.ca_dir.mkdir(mode=0o700)
    layout.root_cert.write_bytes(chain_to_pem([ca.root_cert]))
    layout.doorman_cert.write_bytes(chain_to_pem([ca.doorman_cert]))
    layout.network_map_cert.write_bytes(chain_to_pem([ca.network_map_cert]))
    write_private_key(layout.root_key, ca.root_key, password)
    write_private_key(layout.doorman_key, ca.doorman_key, password)
    write_private_key(layout.network_map_key, ca.network_map_key, password)


def _write_meter(
    layout: NetworkHome,
    ca: DevCertificateAuthority,
    household: X500Name,
    password: bytes | None,
    validity: timedelta,
    now: datetime | None,
) -> x509.Certificate:
    cert, key = ca.enrol_meter(household, validity=validity, now=now)
    directory = layout.meter_dir(household)
    directory.mkdir(parents=True, mode=0o700)
    (directory / "meter.pem").write_bytes(chain_to_pem([cert, ca.doorman_cert]))
    write_private_key(directory / "meter.key", key, password)
    return cert


def _write_service_identity(
    layout: NetworkHome,
    ca: DevCertificateAuthority,
    organisation: str,
    hosts: Sequence[str],
    password: bytes | None,
    validity: timedelta,
    now: datetime | None,
) -> None:
    """The service's TLS certificate, under a node CA from the doorman so it chains to the root
    (a NETWORK_MAP certificate may not issue one), bound to the service's name and the host names
    it serves under. The TLS key stays unencrypted: the service must start unattended."""
    node_ca_key = EcdsaP256PrivateKey.generate()
    service_name = _replaced(SERVICE_NAME, organisation=organisation)
    node_ca = issue_certificate(
        issuer_cert=ca.doorman_cert,
        issuer_key=ca.doorman_key,
        subject=service_name,
        subject_key=node_ca_key.public_key,
        role=CertRole.NODE_CA,
        validity=validity,
        now=now,
        permitted_host_names=[
            n.value for n in service_subject_alt_names(hosts) if isinstance(n, x509.DNSName)
        ],
    )
    tls_key = EcdsaP256PrivateKey.generate()
    tls = issue_certificate(
        issuer_cert=node_ca,
        issuer_key=node_ca_key,
        subject=service_name,
        subject_key=tls_key.public_key,
        role=CertRole.TLS,
        validity=validity,
        now=now,
        subject_alt_names=service_subject_alt_names(hosts),
    )
    layout.service_dir.mkdir(mode=0o700)
    (layout.service_dir / "node-ca.pem").write_bytes(
        chain_to_pem([node_ca, ca.doorman_cert, ca.root_cert])
    )
    write_private_key(layout.service_dir / "node-ca.key", node_ca_key, password)
    layout.service_tls_chain.write_bytes(
        chain_to_pem([tls, node_ca, ca.doorman_cert, ca.root_cert])
    )
    write_private_key(layout.service_tls_key, tls_key, None)


def service_subject_alt_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    """IP SANs for addresses and DNS SANs for host names, so clients can check the host."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _write_node(node: BootstrappedNode, root_pem: bytes, parameters_bytes: bytes) -> None:
    certs = node.certificates
    directory = node.directory
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "truststore.pem").write_bytes(root_pem)
    (directory / "network-parameters.signed").write_bytes(parameters_bytes)
    (directory / "node-info.signed").write_bytes(encode(node.signed_node_info))
    save_node_certificates(directory, certs)
    description = {
        "name": str(node.name),
        "slug": node.slug,
        "broker_user": node.broker_user,
        "notary": None if node.notary is None else {"validating": node.notary.validating},
    }
    (directory / "node.json").write_text(json.dumps(description, indent=2) + "\n")
