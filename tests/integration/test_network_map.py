"""Network admission end to end: the doorman and network map over real HTTPS on loopback.

The service's TLS certificate chains to the network root (root -> doorman -> node CA -> TLS, SAN
127.0.0.1), and clients trust only that root.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import select
import signal
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.encoding import decode, encode
from dlt.identity import (
    CertRole,
    DevCertificateAuthority,
    NodeCertificates,
    X500Name,
    cert_role,
    cert_to_pem,
    certificate_public_key,
    certs_from_pem,
    create_csr,
    csr_to_pem,
    issue_certificate,
    validate_path,
)
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.node.enrolment import EnrolmentPendingError, enrol
from dlt.node.network_map_client import (
    NetworkMapClient,
    NetworkMapRequestError,
    NetworkMapTrustError,
    NetworkMapUnavailableError,
    RegistrationRejectedError,
)
from dlt.node.network_map_types import (
    InvalidNetworkMapError,
    SignedNetworkMap,
    SignedNodeInfo,
    chain_to_pem,
)
from dlt.node.node_info import NodeInfo
from networkmap.bootstrap import bootstrap_network
from networkmap.doorman import Doorman
from networkmap.network_map import NetworkMapService
from networkmap.server import NetworkMapServer, server_ssl_context

REPO = Path(__file__).resolve().parents[2]
ALICE = X500Name("Alice Solar", "Leeds", "GB")
BOB = X500Name("Bob Wind", "York", "GB")
NOTARY = X500Name("Notary Service", "London", "GB")
SERVICE = X500Name("DLT Energy Dev", "London", "GB", common_name="Network Map Service")
LOOPBACK_SAN = [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
PARAMETERS = NetworkParameters(max_message_size=1024 * 1024)


@pytest.fixture(scope="module")
def ca() -> DevCertificateAuthority:
    return DevCertificateAuthority.create()


@pytest.fixture(scope="module")
def other_ca() -> DevCertificateAuthority:
    return DevCertificateAuthority.create(
        root_name=X500Name("Other Grid", "Paris", "FR", common_name="Root CA")
    )


@pytest.fixture(scope="module")
def service_tls(ca, tmp_path_factory) -> tuple[Path, Path]:
    """The service's TLS chain and key on disk, as `load_cert_chain` wants them."""
    identity = ca.enrol_node(SERVICE, tls_subject_alt_names=LOOPBACK_SAN)
    directory = tmp_path_factory.mktemp("service-tls")
    chain, key = directory / "tls.pem", directory / "tls.key"
    chain.write_bytes(chain_to_pem(identity.tls_chain[:-1]))
    key.write_bytes(identity.tls_key.to_pem())
    return chain, key


StartServer = Callable[..., NetworkMapServer]


@pytest.fixture
def start_server(ca, service_tls, tmp_path) -> Iterator[StartServer]:
    """Start a server over one database; call again after stop() to restart on the same data."""
    servers: list[NetworkMapServer] = []

    def start(*, dev_mode: bool = True) -> NetworkMapServer:
        database = tmp_path / "networkmap.db"
        doorman = Doorman(
            database,
            root_cert=ca.root_cert,
            doorman_cert=ca.doorman_cert,
            doorman_key=ca.doorman_key,
            dev_mode=dev_mode,
        )
        service = NetworkMapService(
            database,
            root_cert=ca.root_cert,
            doorman_cert=ca.doorman_cert,
            network_map_cert=ca.network_map_cert,
            network_map_key=ca.network_map_key,
        )
        if service.current_parameters() is None:
            service.sign_network_parameters(PARAMETERS)
        server = NetworkMapServer(doorman, service, server_ssl_context(*service_tls))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client_for(server: NetworkMapServer, root: x509.Certificate) -> NetworkMapClient:
    return NetworkMapClient(server.url, cert_to_pem(root), timeout=5.0)


def raw_request(
    server: NetworkMapServer,
    root: x509.Certificate,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One request below the client, to check status codes and reasons as sent."""
    context = ssl.create_default_context(cadata=cert_to_pem(root).decode())
    connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def csr(name: X500Name, key: EcdsaP256PrivateKey) -> bytes:
    return csr_to_pem(create_csr(subject=name, key=key))


def certify(name: X500Name, node_ca_key: EcdsaP256PrivateKey, chain_pem: bytes) -> NodeCertificates:
    """What a node does once admitted: certify its TLS and legal identity keys itself."""
    node_ca, doorman, root = certs_from_pem(chain_pem)

    def issue(role: CertRole, key) -> x509.Certificate:
        return issue_certificate(
            issuer_cert=node_ca,
            issuer_key=node_ca_key,
            subject=name,
            subject_key=key.public_key,
            role=role,
            validity=timedelta(days=30),
        )

    tls_key, identity_key = EcdsaP256PrivateKey.generate(), Ed25519PrivateKey.generate()
    return NodeCertificates(
        node_ca_cert=node_ca,
        node_ca_key=node_ca_key,
        tls_cert=issue(CertRole.TLS, tls_key),
        tls_key=tls_key,
        legal_identity_cert=issue(CertRole.LEGAL_IDENTITY, identity_key),
        legal_identity_key=identity_key,
        doorman_cert=doorman,
        root_cert=root,
    )


def admit(client: NetworkMapClient, name: X500Name) -> NodeCertificates:
    """Join a dev-mode network: register a CSR, collect the chain, certify the node's keys."""
    key = EcdsaP256PrivateKey.generate()
    chain_pem = client.poll_registration(client.register(csr(name, key), name))
    assert chain_pem is not None
    return certify(name, key, chain_pem)


def signed_info(node: NodeCertificates, **fields) -> SignedNodeInfo:
    info = NodeInfo(legal_identity=node.party, **fields)
    return SignedNodeInfo.sign(info, node.legal_identity_key, node.legal_identity_chain)


# -- doorman ----------------------------------------------------------------------------------


def test_dev_mode_registration_returns_a_valid_chain(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    key = EcdsaP256PrivateKey.generate()
    ticket = client.register(csr(ALICE, key), ALICE)
    chain = certs_from_pem(client.poll_registration(ticket))
    validate_path(chain, ca.root_cert)
    assert cert_role(chain[0]) is CertRole.NODE_CA
    assert certificate_public_key(chain[0]) == key.public_key


def test_registration_is_pending_until_approved(start_server, ca) -> None:
    server = start_server(dev_mode=False)
    client = client_for(server, ca.root_cert)
    ticket = client.register(csr(ALICE, EcdsaP256PrivateKey.generate()), ALICE)
    assert client.poll_registration(ticket) is None
    assert raw_request(server, ca.root_cert, "GET", f"/certificate/{ticket}")[0] == 202
    server.doorman.approve(ticket.id)
    validate_path(certs_from_pem(client.poll_registration(ticket)), ca.root_cert)


def test_rejected_registration_is_403_with_the_reason(start_server, ca) -> None:
    server = start_server(dev_mode=False)
    client = client_for(server, ca.root_cert)
    ticket = client.register(csr(BOB, EcdsaP256PrivateKey.generate()), BOB)
    server.doorman.reject(ticket.id, "not a member of the energy community")
    status, body = raw_request(server, ca.root_cert, "GET", f"/certificate/{ticket}")
    assert status == 403
    assert body == b"rejected: not a member of the energy community\n"
    with pytest.raises(RegistrationRejectedError, match="not a member"):
        client.poll_registration(ticket)


def test_duplicate_name_with_another_key_is_refused(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    admit(client, ALICE)
    with pytest.raises(NetworkMapRequestError, match="already approved with another key") as info:
        client.register(csr(ALICE, EcdsaP256PrivateKey.generate()), ALICE)
    assert info.value.status == 409


def test_malformed_csr_is_a_400_with_a_one_line_reason(start_server, ca) -> None:
    server = start_server()
    status, body = raw_request(server, ca.root_cert, "POST", "/certificate", b"hello")
    assert status == 400
    assert body.count(b"\n") == 1
    assert b"not a PEM certificate signing request" in body


# -- network map ------------------------------------------------------------------------------


def test_published_node_info_comes_back_through_the_signed_map(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    alice = admit(client, ALICE)
    signed = signed_info(alice, addresses=("amqps://127.0.0.1:5671/alice",))
    published = client.publish(signed)
    network_map = client.network_map()
    assert network_map.node_info_hashes == (published,)
    assert client.node_info(published) == signed.verify(ca.root_cert)
    assert client.network_parameters(network_map.parameters_hash) == PARAMETERS


def test_node_info_signed_by_the_wrong_key_is_refused(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    alice = admit(client, ALICE)
    data = encode(NodeInfo(legal_identity=alice.party))
    forged = signed_info(alice).model_copy(
        update={"node_info_bytes": data, "signature": Ed25519PrivateKey.generate().sign(data)}
    )
    with pytest.raises(NetworkMapRequestError, match="does not verify") as info:
        client.publish(forged)
    assert info.value.status == 403


def test_node_info_from_another_root_is_refused(start_server, ca, other_ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    stranger = other_ca.enrol_node(ALICE)
    with pytest.raises(NetworkMapRequestError, match="this network's root") as info:
        client.publish(signed_info(stranger))
    assert info.value.status == 403


def test_map_and_parameters_verify_and_a_tampered_map_does_not(start_server, ca) -> None:
    server = start_server()
    client = client_for(server, ca.root_cert)
    client.publish(signed_info(admit(client, ALICE)))
    status, body = raw_request(server, ca.root_cert, "GET", "/network-map")
    assert status == 200
    signed = decode(body, SignedNetworkMap)
    network_map = signed.verify(ca.root_cert)
    parameters_body = raw_request(
        server, ca.root_cert, "GET", f"/network-parameters/{network_map.parameters_hash}"
    )[1]
    assert encode(decode(parameters_body)) == parameters_body
    emptied = network_map.model_copy(update={"node_info_hashes": ()})
    tampered = signed.model_copy(update={"network_map_bytes": encode(emptied)})
    with pytest.raises(InvalidNetworkMapError, match="does not verify"):
        tampered.verify(ca.root_cert)


def test_newest_serial_wins_and_stale_is_409(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    alice = admit(client, ALICE)
    client.publish(signed_info(alice, serial=1))
    newest = client.publish(signed_info(alice, serial=2, addresses=("amqps://new",)))
    assert client.network_map().node_info_hashes == (newest,)
    assert client.node_info(newest).addresses == ("amqps://new",)
    with pytest.raises(NetworkMapRequestError, match="already published serial 2") as info:
        client.publish(signed_info(alice, serial=1, addresses=("amqps://old",)))
    assert info.value.status == 409


async def test_fetch_all_returns_parameters_and_every_node(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    for name in (ALICE, BOB):
        client.publish(signed_info(admit(client, name)))
    parameters, infos = await client.fetch_all()
    assert parameters == PARAMETERS
    assert sorted(str(info.name) for info in infos) == sorted([str(ALICE), str(BOB)])


def test_the_server_keeps_its_data_across_a_restart(start_server, ca) -> None:
    server = start_server(dev_mode=False)
    client = client_for(server, ca.root_cert)
    bob_key = EcdsaP256PrivateKey.generate()
    approved = client.register(csr(BOB, bob_key), BOB)
    server.doorman.approve(approved.id)
    bob = certify(BOB, bob_key, client.poll_registration(approved))
    published = client.publish(signed_info(bob))
    waiting = client.register(csr(NOTARY, EcdsaP256PrivateKey.generate()), NOTARY)
    server.stop()
    with pytest.raises(NetworkMapUnavailableError, match=server.url):
        client.health()

    restarted = client_for(start_server(dev_mode=False), ca.root_cert)
    assert restarted.network_map().node_info_hashes == (published,)
    assert restarted.node_info(published).name == BOB
    assert restarted.poll_registration(waiting) is None
    assert restarted.poll_registration(approved) is not None


# -- transport --------------------------------------------------------------------------------


def test_a_client_that_does_not_trust_the_root_fails_the_handshake(
    start_server, ca, other_ca
) -> None:
    server = start_server()
    with pytest.raises(NetworkMapTrustError, match="not trusted") as info:
        client_for(server, other_ca.root_cert).health()
    assert server.url in str(info.value)
    client_for(server, ca.root_cert).health()


def test_an_unreachable_service_is_reported_with_its_url(ca) -> None:
    client = NetworkMapClient("https://127.0.0.1:1", cert_to_pem(ca.root_cert), timeout=2.0)
    with pytest.raises(NetworkMapUnavailableError, match=r"https://127\.0\.0\.1:1/health"):
        client.health()


@pytest.mark.parametrize(
    ("method", "path", "status", "reason"),
    [
        ("GET", "/nowhere", 404, b"no endpoint /nowhere"),
        ("GET", "/node-info/xyz", 400, b"not a SHA-256 hash"),
        ("GET", "/node-info/" + "0" * 64, 404, b"no NodeInfo has hash"),
        ("POST", "/network-map", 405, b"POST is not allowed"),
        ("GET", "/certificate/" + "0" * 32, 404, b"no registration has ticket"),
        ("POST", "/publish", 400, b"not an encoded SignedNodeInfo"),
    ],
)
def test_errors_carry_a_status_and_one_line_reason(
    start_server, ca, method, path, status, reason
) -> None:
    server = start_server()
    body = b"junk" if method == "POST" else None
    got_status, got_body = raw_request(server, ca.root_cert, method, path, body)
    assert got_status == status
    assert reason in got_body
    assert got_body.count(b"\n") == 1


def test_oversized_bodies_are_refused_unread(start_server, ca) -> None:
    server = start_server()
    status, body = raw_request(
        server, ca.root_cert, "POST", "/publish", b"", {"Content-Length": str(64 * 1024 * 1024)}
    )
    assert status == 413
    assert b"at most" in body


# -- the command line -------------------------------------------------------------------------


def test_serve_command_runs_a_bootstrapped_network_until_sigterm(tmp_path) -> None:
    network = bootstrap_network(tmp_path / "net", notaries=[(NOTARY, False)], nodes=[ALICE])
    root_pem = network.home.truststore.read_bytes()

    def serve() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "networkmap", "serve", "--home", str(network.home.root)),
                *("--address", "127.0.0.1:0"),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        if "listening on" not in line:
            process.kill()
            pytest.fail(f"serve did not start: {line!r} {process.communicate()[1]}")
        return process, line.split("listening on ", 1)[1].split()[0]

    def stop(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not network.home.pid_file.exists()

    process, url = serve()
    try:
        assert int(network.home.pid_file.read_text()) == process.pid
        client = NetworkMapClient(url, root_pem, timeout=5.0)
        for node in network.nodes:
            client.publish(node.signed_node_info)
    finally:
        stop(process)

    process, url = serve()
    try:
        client = NetworkMapClient(url, root_pem, timeout=5.0)
        network_map = client.network_map()
        assert set(network_map.node_info_hashes) == {n.signed_node_info.hash for n in network.nodes}
        parameters = client.network_parameters(network_map.parameters_hash)
        assert parameters == network.parameters
        notary_identity = network.node(NOTARY).node_info.legal_identity
        assert parameters.notaries == (NotaryInfo(identity=notary_identity),)
    finally:
        stop(process)


async def test_a_node_without_certificates_enrols_with_the_doorman_on_first_start(
    start_server, ca, tmp_path
) -> None:
    server = start_server()
    name = X500Name("Fresh Node", "Leeds", "GB")
    directory = tmp_path / "fresh"

    certs = await enrol(directory, name, client_for(server, ca.root_cert))

    validate_path(certs.tls_chain, ca.root_cert)
    validate_path(certs.legal_identity_chain, ca.root_cert)
    assert certs.name == name
    assert certs.tls_cert.subject == name.to_x509()
    again = await enrol(directory, name, client_for(server, ca.root_cert))
    assert again.party == certs.party


async def test_an_enrolment_waiting_for_an_operator_resumes_after_a_restart(
    start_server, ca, tmp_path
) -> None:
    server = start_server(dev_mode=False)
    name = X500Name("Patient Node", "York", "GB")
    directory = tmp_path / "patient"
    client = client_for(server, ca.root_cert)

    with pytest.raises(EnrolmentPendingError, match="approve"):
        await enrol(directory, name, client, timeout=0.3, poll_interval=0.05)
    (pending,) = server.doorman.pending()
    server.doorman.approve(pending.ticket)
    certs = await enrol(directory, name, client, timeout=5, poll_interval=0.05)

    assert certs.name == name
    validate_path(certs.legal_identity_chain, ca.root_cert)
