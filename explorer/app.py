"""The explorer's web application: login, then read-only pages rendered on the server.

Every page is a GET; the only POSTs are /login and /logout, which change the explorer's own
sessions and nothing on the node (a test sends every method to every route to prove it). Pages
see the node only through `ReadOnlyNode`. Responses forbid framing, inline scripts and
third-party content (Content-Security-Policy), and the session cookie is Secure, HttpOnly and
SameSite=Strict.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from dlt.rpc.client import RpcAuthError, RpcError
from explorer import filters
from explorer.sessions import Session, Sessions

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "dlt_explorer_session"
"""The session cookie's name, followed by the port: browsers share cookies between the ports
of one host, so two explorers on one machine would otherwise log each other out."""
MAX_FORM_BYTES = 4096
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=HERE / "templates")
filters.install(templates.env)

PageHandler = Callable[[Request, Session], Awaitable[Response]]


def cookie_name(request: Request) -> str:
    return f"{COOKIE}_{request.url.port or 443}"


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page from its template, with the security headers every response carries."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def page(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    """A page for logged-in users only: anyone else is sent to the login form, and an RPC
    failure is shown as a one-line error instead of data."""

    async def endpoint(request: Request) -> Response:
        sessions: Sessions = request.app.state.sessions
        session = sessions.get(request.cookies.get(cookie_name(request)))
        if session is None:
            return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        request.state.session = session
        try:
            return await handler(request, session)
        except RpcAuthError:
            await sessions.logout(request.cookies.get(cookie_name(request)))
            return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        except (RpcError, PageError) as exc:
            status = exc.status if isinstance(exc, PageError) else 502
            return render(request, "error.html", status_code=status, message=str(exc))

    return endpoint


class PageError(Exception):
    """A request the page cannot answer (bad criteria, unknown id); shown as one line."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def login_form(request: Request) -> Response:
    return render(request, "login.html", node=request.app.state.sessions.rpc_address)


async def login(request: Request) -> Response:
    sessions: Sessions = request.app.state.sessions
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    username = form.get("username", [""])[0]
    password = form.get("password", [""])[0]
    try:
        token = await sessions.login(username, password)
    except RpcAuthError:
        log.warning("explorer login refused for user %r", username)
        return render(
            request,
            "login.html",
            status_code=401,
            node=sessions.rpc_address,
            refused="Login refused: the node did not accept that username and password.",
        )
    except RpcError as exc:
        return render(
            request,
            "login.html",
            status_code=502,
            node=sessions.rpc_address,
            refused=f"Cannot log in: {exc}",
        )
    response = RedirectResponse("/transactions", status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        cookie_name(request), token, secure=True, httponly=True, samesite="strict", path="/"
    )
    return response


async def logout(request: Request) -> Response:
    await request.app.state.sessions.logout(request.cookies.get(cookie_name(request)))
    response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(cookie_name(request), path="/")
    return response


async def no_icon(request: Request) -> Response:
    return Response(status_code=204, headers=SECURITY_HEADERS)


async def home(request: Request) -> Response:
    return RedirectResponse("/transactions", status_code=303, headers=SECURITY_HEADERS)


def create_app(sessions: Sessions) -> Starlette:
    """The explorer for the node that `sessions` logs in to."""
    from explorer import ledger_pages, live_pages, network_pages

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/favicon.ico", no_icon, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *ledger_pages.routes(),
        *live_pages.routes(),
        *network_pages.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    return app


MUTATING_ROUTES = frozenset({("POST", "/login"), ("POST", "/logout")})
"""The only non-GET routes: they change the explorer's sessions, never the node."""
