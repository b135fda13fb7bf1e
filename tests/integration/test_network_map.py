"""Network admission end to end: the doorman and network map over real HTTPS on loopback."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.encoding import decode, encode
from dlt.identity import (
    CertRole,
    X500Name,
    cert_role,
    cert_to_pem,
    certificate_public_key,
    certs_from_pem,
    validate_path,
)
from dlt.ledger.network_parameters import NotaryInfo
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
)
from dlt.node.node_info import NodeInfo
from fixtures.network_map import (
    ALICE,
    BOB,
    NOTARY,
    PARAMETERS,
    admit,
    ca,
    certify,
    client_for,
    csr,
    other_ca,
    raw_request,
    service_tls,
    signed_info,
    start_server,
)
from networkmap.bootstrap import bootstrap_network

__all__ = ["ca", "other_ca", "service_tls", "start_server"]  # fixtures used by name

REPO = Path(__file__).resolve().parents[2]


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


def test_a_server_that_drops_the_handshake_is_unavailable_not_untrusted(ca) -> None:
    """A connection closed mid-handshake (a server restarting or overloaded) says nothing
    about whose server it is: a node may ask again, unlike for a certificate it distrusts."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def drop_every_connection() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                connection.recv(65536)  # the ClientHello, read so that close sends FIN, not RST
                connection.close()

    threading.Thread(target=drop_every_connection, daemon=True).start()
    client = NetworkMapClient(f"https://127.0.0.1:{port}", cert_to_pem(ca.root_cert), timeout=5)
    try:
        with pytest.raises(
            NetworkMapUnavailableError, match=r"closed during TLS|reset by peer"
        ) as info:
            client.health()
        assert not isinstance(info.value, NetworkMapTrustError)
    finally:
        listener.close()
        client.close()


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
