"""Nothing in the explorer can change the ledger: pages reach the node only through
ReadOnlyNode, which has no writing method, and every route but login and logout is a GET."""

from __future__ import annotations

import inspect

import httpx
import pytest
from starlette.routing import Mount, Route

from dlt.rpc.client import RpcClient
from explorer.app import MUTATING_ROUTES, create_app
from explorer.sessions import ReadOnlyNode, Sessions

WRITES = ("start_flow", "run_flow", "kill_flow", "upload_attachment")


def test_the_read_only_node_has_no_method_that_writes() -> None:
    public = {name for name, _ in inspect.getmembers(ReadOnlyNode) if not name.startswith("_")}
    assert public == {*ReadOnlyNode.READS, "READS", "address", "close"}
    assert not set(WRITES) & public
    assert set(WRITES) <= set(dir(RpcClient))  # the names checked are the client's real ones


def test_the_read_only_node_does_not_hand_out_its_client() -> None:
    node = ReadOnlyNode.__new__(ReadOnlyNode)
    assert not any(isinstance(value, RpcClient) for value in vars(node).values())
    assert [name for name in vars(ReadOnlyNode) if "client" in name.lower()] == []


def _routes(app) -> list[Route]:
    return [route for route in app.routes if isinstance(route, Route)]


def test_every_route_but_login_and_logout_only_reads() -> None:
    app = create_app(Sessions("127.0.0.1:1", b""))
    writes = {
        (method, route.path)
        for route in _routes(app)
        for method in route.methods or ()
        if method not in ("GET", "HEAD")
    }
    assert writes == MUTATING_ROUTES
    assert all(isinstance(route, Mount) for route in app.routes if not isinstance(route, Route))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_writing_methods_are_refused_on_every_page(method) -> None:
    app = create_app(Sessions("127.0.0.1:1", b""))
    paths = [
        route.path.replace("{tx_id}", "ab" * 32).replace("{flow_id}", "f" * 32)
        for route in _routes(app)
        if (method, route.path) not in MUTATING_ROUTES
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://explorer"
    ) as client:
        for path in paths:
            response = await client.request(method, path)
            assert response.status_code == 405, (method, path)


async def test_pages_send_anyone_not_logged_in_to_the_login_form() -> None:
    app = create_app(Sessions("127.0.0.1:1", b""))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://explorer",
        cookies={"dlt_explorer_session_443": "guessed"},
    ) as client:
        for route in _routes(app):
            if "GET" not in (route.methods or ()) or route.path in ("/login", "/favicon.ico"):
                continue
            path = route.path.replace("{tx_id}", "ab" * 32).replace("{flow_id}", "f" * 32)
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] in ("/login", "/transactions")
