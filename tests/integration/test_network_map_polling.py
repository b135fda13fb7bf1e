"""Following the network map cheaply: kept-alive connections, a 304 for an unchanged map, each
NodeInfo downloaded once, and remembered verifications exactly as strict as fresh ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dlt.node.network_map_client import InvalidResponseError
from fixtures.network_map import (
    ALICE,
    BOB,
    admit,
    ca,
    client_for,
    raw_response,
    service_tls,
    signed_info,
    start_server,
)

__all__ = ["ca", "service_tls", "start_server"]  # fixtures used by name


class RequestLog:
    """ASGI middleware recording (method, path, status, client port) of every request."""

    def __init__(self, app, requests: list[tuple[str, str, int, int]]) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def record(message) -> None:
            if message["type"] == "http.response.start":
                self.requests.append(
                    (scope["method"], scope["path"], message["status"], scope["client"][1])
                )
            await send(message)

        await self.app(scope, receive, record)


@pytest.fixture
def logged_server(start_server):
    """A started server whose requests are listed in the returned list, before any is made."""
    server = start_server()
    requests: list[tuple[str, str, int, int]] = []
    server.app.add_middleware(RequestLog, requests=requests)
    return server, requests


def test_an_unchanged_map_is_answered_304_to_its_etag(start_server, ca) -> None:
    server = start_server()
    status, headers, body = raw_response(server, ca.root_cert, "GET", "/network-map")
    assert status == 200
    etag = headers["etag"]

    again = raw_response(
        server, ca.root_cert, "GET", "/network-map", headers={"If-None-Match": etag}
    )
    assert again[0] == 304
    assert again[2] == b""

    client = client_for(server, ca.root_cert)
    client.publish(signed_info(admit(client, ALICE)))
    changed = raw_response(
        server, ca.root_cert, "GET", "/network-map", headers={"If-None-Match": etag}
    )
    assert changed[0] == 200
    assert changed[1]["etag"] != etag
    assert changed[2] != body


async def test_polling_an_unchanged_map_costs_two_304s_on_one_connection(logged_server, ca) -> None:
    server, requests = logged_server
    publisher = client_for(server, ca.root_cert)
    for name in (ALICE, BOB):
        publisher.publish(signed_info(admit(publisher, name)))
    client = client_for(server, ca.root_cert)
    first = await client.fetch_all()
    requests.clear()

    for _ in range(3):
        assert await client.fetch_all() == first

    assert [(method, path, status) for method, path, status, _ in requests] == [
        ("GET", "/network-map", 304),
        ("GET", "/network-map/crl", 304),
    ] * 3
    assert len({port for *_, port in requests}) == 1


async def test_only_a_node_info_that_changed_is_downloaded(logged_server, ca) -> None:
    server, requests = logged_server
    publisher = client_for(server, ca.root_cert)
    alice, bob = admit(publisher, ALICE), admit(publisher, BOB)
    publisher.publish(signed_info(alice, serial=1))
    publisher.publish(signed_info(bob, serial=1))
    client = client_for(server, ca.root_cert)
    await client.fetch_all()
    newer = publisher.publish(signed_info(bob, serial=2, addresses=("amqps://moved",)))
    requests.clear()

    _, infos = await client.fetch_all()

    assert [(path, status) for _, path, status, _ in requests] == [
        ("/network-map", 200),
        ("/network-map/crl", 304),
        (f"/node-info/{newer}", 200),
    ]
    assert {info.name: info.addresses for info in infos}[BOB] == ("amqps://moved",)


def test_a_remembered_node_info_is_refused_once_its_certificates_expire(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    published = client.publish(signed_info(admit(client, ALICE)))
    assert client.node_info(published).name == ALICE
    after_its_30_days = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(InvalidResponseError, match=r"LEGAL_IDENTITY.*expired"):
        client.node_info(published, now=after_its_30_days)
    assert client.node_info(published).name == ALICE


def test_a_remembered_map_is_refused_once_its_certificate_expires(start_server, ca) -> None:
    client = client_for(start_server(), ca.root_cert)
    client.network_map()
    expired = ca.root_cert.not_valid_after_utc + timedelta(days=1)
    with pytest.raises(InvalidResponseError, match="expired"):
        client.network_map(now=expired)
