"""The operator forms a notary cluster from replicas that joined through the doorman:
`python -m networkmap notary-cluster`, with keys only from what the doorman certified."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.rabbitmq import free_port
from dlt.crypto import EcdsaP256PrivateKey
from dlt.crypto.composite import CompositeKey
from dlt.encoding import encode
from dlt.identity import NodeCertificates, X500Name, certs_from_pem, create_csr, csr_to_pem
from dlt.identity.hierarchy import issue_node_identities
from dlt.node.network_map_client import NetworkMapClient
from dlt.node.network_map_types import SignedNodeInfo
from dlt.node.node_info import NodeInfo
from networkmap.__main__ import main
from networkmap.bootstrap import NetworkHome, bootstrap_network
from networkmap.doorman import Doorman
from networkmap.network_map import NetworkMapService
from networkmap.notary_cluster import NotaryClusterError, replica_party

SERVICE = "O=Notary Service, L=Zurich, C=CH"
REPLICAS = [f"O=Notary Service Replica {n}, L=Zurich, C=CH" for n in range(1, 5)]


@dataclass
class Network:
    """A bootstrapped home whose doorman and map are driven in-process, as `serve` would."""

    home: NetworkHome
    doorman: Doorman
    service: NetworkMapService

    def admit(self, name: str, *, publish: bool = True) -> NodeCertificates:
        """Register, approve and enrol `name`; publish its NodeInfo unless told not to."""
        key = EcdsaP256PrivateKey.generate()
        csr = csr_to_pem(create_csr(subject=X500Name.parse(name), key=key))
        registration = self.doorman.approve(self.doorman.submit(csr).ticket)
        node_ca, doorman_ca, root = certs_from_pem(registration.certificate_chain_pem or b"")
        certs = issue_node_identities(
            node_ca_cert=node_ca, node_ca_key=key, doorman_cert=doorman_ca, root_cert=root
        )
        if publish:
            self.service.publish(encode(_signed_info(certs)))
        return certs

    def cluster(self, *replicas: str, service: str = SERVICE) -> int:
        argv = ["notary-cluster", "--home", str(self.home.root), "--service", service]
        for replica in replicas:
            argv += ["--replica", replica]
        return main(argv)


def _signed_info(certs: NodeCertificates) -> SignedNodeInfo:
    info = NodeInfo(legal_identity=certs.party)
    return SignedNodeInfo.sign(info, certs.legal_identity_key, certs.legal_identity_chain)


@pytest.fixture
def network(tmp_path: Path) -> Network:
    result = bootstrap_network(tmp_path / "network")
    home = result.home
    doorman = Doorman(
        home.database,
        root_cert=home.load_cert(home.root_cert),
        doorman_cert=home.load_cert(home.doorman_cert),
        doorman_key=home.load_key(home.doorman_key),
    )
    service = NetworkMapService(
        home.database,
        root_cert=doorman.root_cert,
        doorman_cert=doorman.doorman_cert,
        network_map_cert=home.load_cert(home.network_map_cert),
        network_map_key=home.load_key(home.network_map_key),
        revocations=doorman,
    )
    service.set_network_parameters(home.load_network_parameters())
    return Network(home, doorman, service)


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    return err


def test_the_service_key_is_the_replicas_published_keys_with_threshold_n_minus_f(network) -> None:
    keys = [network.admit(name).party.owning_key for name in REPLICAS]

    assert network.cluster(*REPLICAS) == 0

    parameters = network.service.current_parameters()
    assert parameters is not None and parameters.epoch == 2
    (notary,) = parameters.notaries
    assert notary.identity.name == X500Name.parse(SERVICE) and not notary.validating
    assert [r.owning_key for r in notary.replicas] == keys
    assert notary.identity.owning_key == CompositeKey.build(keys, threshold=3)


def test_the_running_map_serves_the_new_parameters(network) -> None:
    for name in REPLICAS:
        network.admit(name)
    before = network.service.network_map().parameters_hash

    network.cluster(*REPLICAS)

    after = network.service.network_map().parameters_hash
    assert after != before
    assert network.service.signed_network_parameters(after).verify(network.doorman.root_cert)


def test_forming_the_same_cluster_again_changes_nothing(network) -> None:
    for name in REPLICAS:
        network.admit(name)
    network.cluster(*REPLICAS)

    assert network.cluster(*REPLICAS) == 0

    assert network.service.current_parameters().epoch == 2


def test_a_registration_still_pending_cannot_be_a_replica(network, capsys) -> None:
    for name in REPLICAS[:3]:
        network.admit(name)
    key = EcdsaP256PrivateKey.generate()
    network.doorman.submit(csr_to_pem(create_csr(subject=X500Name.parse(REPLICAS[3]), key=key)))

    assert network.cluster(*REPLICAS) == 1

    assert "is not an admitted node" in _one_line_error(capsys)
    assert network.service.current_parameters().notaries == ()


def test_a_revoked_node_cannot_be_a_replica(network, capsys) -> None:
    for name in REPLICAS:
        network.admit(name)
    network.doorman.revoke(X500Name.parse(REPLICAS[2]), "key lost")

    assert network.cluster(*REPLICAS) == 1

    assert "was revoked" in _one_line_error(capsys)
    assert network.service.current_parameters().notaries == ()


def test_an_admitted_node_that_published_no_node_info_cannot_be_a_replica(network, capsys) -> None:
    for name in REPLICAS[:3]:
        network.admit(name)
    network.admit(REPLICAS[3], publish=False)

    assert network.cluster(*REPLICAS) == 1

    assert "has not published its NodeInfo" in _one_line_error(capsys)


def test_a_key_certified_by_another_doorman_under_the_same_root_is_refused(
    dev_ca, second_doorman_ca, make_doorman, csr_for
) -> None:
    """The replica's name was admitted by our doorman, but the NodeInfo offered for it carries
    a legal identity under a node CA that another doorman of the same root issued."""
    name = X500Name.parse(REPLICAS[0])
    registration = make_doorman(dev_mode=True).submit(csr_for(name)[0])
    impostor = second_doorman_ca.enrol_node(name)

    with pytest.raises(NotaryClusterError, match="not certified by the node CA the doorman"):
        replica_party(name, _signed_info(impostor), registration, dev_ca.root_cert)


def test_another_nodes_node_info_is_not_taken_for_the_replica(
    dev_ca, make_doorman, csr_for
) -> None:
    """An admitted node's own, valid NodeInfo cannot stand in for the replica's."""
    doorman = make_doorman(dev_mode=True)
    name = X500Name.parse(REPLICAS[0])
    registration = doorman.submit(csr_for(name)[0])
    other = dev_ca.enrol_node(X500Name.parse(REPLICAS[1]))

    with pytest.raises(NotaryClusterError, match="not certified"):
        replica_party(name, _signed_info(other), registration, dev_ca.root_cert)


def test_the_service_may_not_take_an_admitted_nodes_name(network, capsys) -> None:
    for name in [*REPLICAS, SERVICE]:
        network.admit(name)

    assert network.cluster(*REPLICAS) == 1

    assert "is the name of an admitted node" in _one_line_error(capsys)


def test_a_second_cluster_under_the_same_service_name_is_refused(network, capsys) -> None:
    others = [f"O=Spare Replica {n}, L=Zurich, C=CH" for n in range(1, 5)]
    for name in [*REPLICAS, *others]:
        network.admit(name)
    network.cluster(*REPLICAS)

    assert network.cluster(*others) == 1

    assert "already name notary" in _one_line_error(capsys)
    assert network.service.current_parameters().epoch == 2


def test_a_replica_serves_one_notary(network, capsys) -> None:
    for name in REPLICAS:
        network.admit(name)
    network.cluster(*REPLICAS)

    assert network.cluster(*REPLICAS, service="O=Second Notary, L=Zurich, C=CH") == 1

    assert "a replica serves one notary" in _one_line_error(capsys)


def test_a_replica_named_twice_is_refused(network, capsys) -> None:
    network.admit(REPLICAS[0])

    assert network.cluster(REPLICAS[0], REPLICAS[0]) == 1

    assert "named twice" in _one_line_error(capsys)


def test_serve_starts_on_the_clusters_epoch_not_the_bootstrapped_file(network) -> None:
    """The bootstrapped file holds epoch 1; the cluster's epoch 2 is in the database."""
    for name in REPLICAS:
        network.admit(name)
    network.cluster(*REPLICAS)
    port = free_port()
    log = network.home.root / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "networkmap", "serve"),
                *("--home", str(network.home.root), "--address", f"127.0.0.1:{port}"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "listening" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        root = network.home.truststore.read_bytes()
        with NetworkMapClient(f"https://127.0.0.1:{port}", root) as client:
            parameters = client.network_parameters(client.network_map().parameters_hash)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert parameters.epoch == 2
    assert [n.identity.name for n in parameters.notaries] == [X500Name.parse(SERVICE)]
