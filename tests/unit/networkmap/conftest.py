"""Two development networks and enrolled nodes, shared: building CAs is the slow part."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import (
    CertRole,
    DevCertificateAuthority,
    NodeCertificates,
    X500Name,
    create_csr,
    csr_to_pem,
    issue_certificate,
)
from dlt.identity.hierarchy import DEV_VALIDITY
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.network_map_types import SignedNetworkParameters, SignedNodeInfo
from dlt.node.node_info import NodeInfo
from networkmap.doorman import Doorman
from networkmap.network_map import NetworkMapService

ALICE = X500Name("Alice Solar", "Leeds", "GB")
BOB = X500Name("Bob Wind", "York", "GB")
CAROL = X500Name("Carol Hydro", "Bath", "GB")

SignInfo = Callable[..., SignedNodeInfo]


@pytest.fixture(scope="session")
def dev_ca() -> DevCertificateAuthority:
    return DevCertificateAuthority.create()


@pytest.fixture(scope="session")
def other_ca() -> DevCertificateAuthority:
    """Another network, with its own root."""
    return DevCertificateAuthority.create(
        root_name=X500Name("Other Grid", "Paris", "FR", common_name="Root CA")
    )


@pytest.fixture(scope="session")
def alice(dev_ca: DevCertificateAuthority) -> NodeCertificates:
    return dev_ca.enrol_node(ALICE)


@pytest.fixture(scope="session")
def bob(dev_ca: DevCertificateAuthority) -> NodeCertificates:
    return dev_ca.enrol_node(BOB)


@pytest.fixture(scope="session")
def second_doorman_ca(dev_ca: DevCertificateAuthority) -> DevCertificateAuthority:
    """A second doorman under the same root: its nodes chain to the root but not via ours."""
    key = EcdsaP256PrivateKey.generate()
    cert = issue_certificate(
        issuer_cert=dev_ca.root_cert,
        issuer_key=dev_ca.root_key,
        subject=X500Name("DLT Energy Dev", "Paris", "FR", common_name="Doorman CA 2"),
        subject_key=key.public_key,
        role=CertRole.DOORMAN_CA,
        validity=DEV_VALIDITY,
    )
    return DevCertificateAuthority(
        root_cert=dev_ca.root_cert,
        root_key=dev_ca.root_key,
        doorman_cert=cert,
        doorman_key=key,
        network_map_cert=dev_ca.network_map_cert,
        network_map_key=dev_ca.network_map_key,
    )


@pytest.fixture
def sign_info() -> SignInfo:
    """Sign a NodeInfo for `certs` (fields overridable) the way a node publishes it."""

    def sign(certs: NodeCertificates, **fields: object) -> SignedNodeInfo:
        info = NodeInfo(legal_identity=certs.party, **fields)  # type: ignore[arg-type]
        return SignedNodeInfo.sign(info, certs.legal_identity_key, certs.legal_identity_chain)

    return sign


@pytest.fixture
def csr_for() -> Callable[[X500Name], tuple[bytes, EcdsaP256PrivateKey]]:
    def make(name: X500Name) -> tuple[bytes, EcdsaP256PrivateKey]:
        key = EcdsaP256PrivateKey.generate()
        return csr_to_pem(create_csr(subject=name, key=key)), key

    return make


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "networkmap.db"


@pytest.fixture
def make_doorman(database: Path, dev_ca: DevCertificateAuthority) -> Callable[..., Doorman]:
    def make(*, dev_mode: bool = False, with_key: bool = True) -> Doorman:
        return Doorman(
            database,
            root_cert=dev_ca.root_cert,
            doorman_cert=dev_ca.doorman_cert,
            doorman_key=dev_ca.doorman_key if with_key else None,
            dev_mode=dev_mode,
        )

    return make


@pytest.fixture
def make_service(
    database: Path, dev_ca: DevCertificateAuthority
) -> Callable[..., NetworkMapService]:
    def make(
        parameters: NetworkParameters | None = None,
        *,
        with_parameters: bool = True,
        trusted_names: dict | None = None,
    ) -> NetworkMapService:
        service = NetworkMapService(
            database,
            root_cert=dev_ca.root_cert,
            doorman_cert=dev_ca.doorman_cert,
            network_map_cert=dev_ca.network_map_cert,
            network_map_key=dev_ca.network_map_key,
            trusted_names=trusted_names,
        )
        if with_parameters:
            service.set_network_parameters(
                SignedNetworkParameters.sign(
                    parameters or NetworkParameters(),
                    dev_ca.network_map_key,
                    (dev_ca.network_map_cert, dev_ca.root_cert),
                )
            )
        return service

    return make
