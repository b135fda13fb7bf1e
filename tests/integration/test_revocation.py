"""Revocation end to end over real HTTPS: the doorman's CRL at the network map, the map
dropping and refusing a revoked node, and a node refusing a revoked identity on its own."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from http import HTTPStatus

import pytest

from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity.revocation import RevocationList
from dlt.node.network_map_client import (
    InvalidResponseError,
    NetworkMapClient,
    NetworkMapRequestError,
    RegistrationRejectedError,
)
from fixtures.network_map import (
    ALICE,
    BOB,
    PARAMETERS,
    admit,
    ca,
    client_for,
    csr,
    other_ca,
    raw_response,
    service_tls,
    signed_info,
    start_server,
)
from networkmap.doorman import Doorman
from networkmap.network_map import NetworkMapService
from networkmap.server import NetworkMapServer, server_ssl_context

__all__ = ["ca", "other_ca", "service_tls", "start_server"]  # fixtures used by name

Build = Callable[..., tuple[NetworkMapServer, Doorman]]


@pytest.fixture
def build(ca, service_tls, tmp_path) -> Iterator[Build]:
    """A server whose doorman signs with `crl_key` (or, `signs` False, not at all) and whose
    map heeds revocations or not: among them the dishonest services a node must not trust."""
    servers: list[NetworkMapServer] = []

    def make(
        *, crl_key=None, heed_revocations: bool = True, signs: bool = True
    ) -> tuple[NetworkMapServer, Doorman]:
        database = tmp_path / "networkmap.db"
        doorman = Doorman(
            database,
            root_cert=ca.root_cert,
            doorman_cert=ca.doorman_cert,
            doorman_key=(crl_key or ca.doorman_key) if signs else None,
            dev_mode=signs,
        )
        service = NetworkMapService(
            database,
            root_cert=ca.root_cert,
            doorman_cert=ca.doorman_cert,
            network_map_cert=ca.network_map_cert,
            network_map_key=ca.network_map_key,
            revocations=doorman if heed_revocations else None,
        )
        service.sign_network_parameters(PARAMETERS)
        server = NetworkMapServer(doorman, service, server_ssl_context(*service_tls))
        server.start()
        servers.append(server)
        return server, doorman

    yield make
    for server in servers:
        server.stop()


def _published(client: NetworkMapClient, name):
    node = admit(client, name)
    client.publish(signed_info(node))
    return node


def test_the_crl_is_served_signed_by_the_doorman_with_an_etag(start_server, ca) -> None:
    server = start_server()
    status, headers, body = raw_response(server, ca.root_cert, "GET", "/network-map/crl")
    assert status == HTTPStatus.OK
    assert RevocationList.verify(body, ca.root_cert).serials == frozenset()
    again = {"If-None-Match": headers["etag"]}
    assert raw_response(server, ca.root_cert, "GET", "/network-map/crl", headers=again)[0] == 304


def test_a_revoked_node_is_dropped_from_the_map(start_server, ca) -> None:
    server = start_server()
    client = client_for(server, ca.root_cert)
    _published(client, ALICE)
    _published(client, BOB)
    server.doorman.revoke(ALICE, "compromised")
    listed = [client.node_info(h).name for h in client.network_map().node_info_hashes]
    assert listed == [BOB]


def test_a_revoked_node_may_not_publish_its_node_info(start_server, ca) -> None:
    server = start_server()
    client = client_for(server, ca.root_cert)
    alice = _published(client, ALICE)
    server.doorman.revoke(ALICE, "compromised")
    with pytest.raises(NetworkMapRequestError) as refused:
        client.publish(signed_info(alice, serial=2))
    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert "revoked by the network operator" in refused.value.reason


def test_a_revoked_registration_reads_revoked_to_its_node(start_server, ca) -> None:
    server = start_server()
    client = client_for(server, ca.root_cert)
    key = EcdsaP256PrivateKey.generate()
    ticket = client.register(csr(ALICE, key), ALICE)
    client.poll_registration(ticket)
    server.doorman.revoke(ALICE, "compromised")
    with pytest.raises(RegistrationRejectedError, match="revoked: compromised"):
        client.poll_registration(ticket)


async def test_the_client_leaves_out_a_revoked_node_a_dishonest_map_still_lists(build, ca) -> None:
    server, doorman = build(heed_revocations=False)
    client = client_for(server, ca.root_cert)
    _published(client, ALICE)
    _published(client, BOB)
    doorman.revoke(ALICE, "compromised")
    assert len(client.network_map().node_info_hashes) == 2  # the courier still lists Alice
    _, infos = await client.fetch_all()
    assert [info.name for info in infos] == [BOB]


def test_a_crl_signed_by_a_foreign_key_is_refused(build, ca) -> None:
    server, _ = build(crl_key=EcdsaP256PrivateKey.generate())
    client = client_for(server, ca.root_cert)
    with pytest.raises(InvalidResponseError, match="not signed by the doorman CA"):
        client.revocations()


def test_an_older_crl_replayed_after_a_newer_one_is_refused(start_server, ca, tmp_path) -> None:
    server = start_server()
    client = client_for(server, ca.root_cert)
    _published(client, ALICE)
    assert client.revocations().number == 1  # the dev doorman's first CRL, empty
    server.doorman.revoke(ALICE, "compromised")
    assert client.revocations().number == 2
    with sqlite3.connect(tmp_path / "networkmap.db") as db:
        db.execute("DELETE FROM crls WHERE number = 2")
    with pytest.raises(InvalidResponseError, match="older than number 2"):
        client.revocations()


def test_a_withdrawn_crl_is_refused_once_one_was_seen(build, ca, tmp_path) -> None:
    server, _ = build(signs=False)  # a production server: the operator signs CRLs offline
    client = client_for(server, ca.root_cert)
    assert client.revocations() is None  # no CRL issued yet: nothing is revoked
    operator = Doorman(
        tmp_path / "networkmap.db",
        root_cert=ca.root_cert,
        doorman_cert=ca.doorman_cert,
        doorman_key=ca.doorman_key,
    )
    operator.issue_crl()
    assert client.revocations().number == 1
    with sqlite3.connect(tmp_path / "networkmap.db") as db:
        db.execute("DELETE FROM crls")
    with pytest.raises(InvalidResponseError, match="withdrew the CRL"):
        client.revocations()
