"""The doorman and network map over HTTPS: a Starlette application served by uvicorn.

Endpoints (payloads are the canonical encoding, application/cbor, so signatures stay byte-exact;
errors are a 4xx/5xx status with a one-line text/plain reason):

    POST /certificate               PEM CSR            -> 200 ticket (text)
    GET  /certificate/<ticket>                         -> 200 chain PEM | 202 pending | 403 reason
    POST /publish                   SignedNodeInfo     -> 200 node info hash (text)
    GET  /network-map                                  -> 200 SignedNetworkMap | 304
    GET  /network-map/crl                              -> 200 CRL + doorman CA PEM | 304 | 404
    GET  /node-info/<hash>                             -> 200 SignedNodeInfo
    GET  /network-parameters/<hash>                    -> 200 SignedNetworkParameters
    GET  /health                                       -> 200 "ok"

The map carries an ETag (the SHA-256 of its bytes): a node that sends it back in If-None-Match
gets a bodiless 304 while the map is unchanged. NodeInfos and parameters are addressed by the
hash of their content, so they never change and may be kept. The doorman's CRL is served the
way the map is, with an ETag, followed by the doorman CA certificate that signed it; 404 until
the doorman has issued one. Connections are kept alive; the
service's database work runs in worker threads, off the server's event loop.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dlt.crypto import SecureHash
from dlt.encoding import encode
from dlt.node.network_map_types import SignedNetworkMap
from dlt.web import AppServer, server_ssl_context
from networkmap.doorman import (
    Doorman,
    DoormanError,
    DuplicateNameError,
    InvalidRegistrationError,
    MissingSigningKeyError,
    RegistrationStateError,
    RegistrationStatus,
    UnknownNodeError,
    UnknownTicketError,
)
from networkmap.network_map import (
    MalformedSubmissionError,
    NetworkMapService,
    NetworkMapServiceError,
    NetworkParametersRefusedError,
    NodeInfoRefusedError,
    NoNetworkParametersError,
    NotFoundError,
    StaleNodeInfoError,
)

__all__ = ["NetworkMapServer", "server_ssl_context"]

log = logging.getLogger(__name__)

CBOR = "application/cbor"
PEM = "application/x-pem-file"
TEXT = "text/plain; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
NO_STORE = "no-store"
REVALIDATE = "no-cache"
IMMUTABLE = "max-age=31536000, immutable"
ENDPOINTS = (
    "/certificate, /publish, /network-map, /network-map/crl, /node-info/<hash>, "
    "/network-parameters/<hash>, /health"
)

_ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    InvalidRegistrationError: HTTPStatus.BAD_REQUEST,
    DuplicateNameError: HTTPStatus.CONFLICT,
    UnknownTicketError: HTTPStatus.NOT_FOUND,
    UnknownNodeError: HTTPStatus.NOT_FOUND,
    RegistrationStateError: HTTPStatus.CONFLICT,
    MissingSigningKeyError: HTTPStatus.SERVICE_UNAVAILABLE,
    MalformedSubmissionError: HTTPStatus.BAD_REQUEST,
    NodeInfoRefusedError: HTTPStatus.FORBIDDEN,
    StaleNodeInfoError: HTTPStatus.CONFLICT,
    NetworkParametersRefusedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    NoNetworkParametersError: HTTPStatus.SERVICE_UNAVAILABLE,
}

Endpoint = Callable[[Request], Awaitable[Response]]


class HttpError(Exception):
    """A request the handler refuses before reaching the services (bad path, body, method)."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _status_for(exc: Exception) -> HTTPStatus:
    for kind in type(exc).__mro__:
        if kind in _ERROR_STATUS:
            return _ERROR_STATUS[kind]
    return HTTPStatus.BAD_REQUEST


def _line(reason: str) -> bytes:
    return (" ".join(reason.split()) + "\n").encode("utf-8")


def _parse_hash(text: str) -> SecureHash:
    try:
        return SecureHash.parse(text)
    except ValueError as exc:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"{text[:80]!r} is not a SHA-256 hash (64 hex digits)"
        ) from exc


def _text(status: HTTPStatus, reason: str) -> Response:
    return Response(_line(reason), status, media_type=TEXT, headers={"Cache-Control": NO_STORE})


def _refusal(request: Request, exc: Exception) -> Response:
    """A request refused before or by the services, as a status and a one-line reason."""
    if isinstance(exc, HttpError):
        return _text(exc.status, exc.reason)
    if isinstance(exc, DoormanError | NetworkMapServiceError):
        return _text(_status_for(exc), str(exc))
    if isinstance(exc, HTTPException) and exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        return _text(
            HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on {request.url.path}"
        )
    if isinstance(exc, HTTPException) and exc.status_code == HTTPStatus.NOT_FOUND:
        return _text(HTTPStatus.NOT_FOUND, f"no endpoint {request.url.path}; see {ENDPOINTS}")
    log.error("internal error serving %s %s", request.method, request.url.path, exc_info=exc)
    return _text(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal error in the network map service; see its log"
    )


def _guarded(endpoint: Endpoint) -> Endpoint:
    """Every failure of `endpoint` answered by `_refusal`, so nothing escapes as a bare 500."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Exception as exc:
            return _refusal(request, exc)

    return guarded


async def _body(request: Request) -> bytes:
    """The request body, refused unread when it announces more than MAX_BODY_BYTES."""
    length_header = request.headers.get("content-length")
    if length_header is None and "chunked" not in request.headers.get("transfer-encoding", ""):
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
    if length_header is not None:
        try:
            length = int(length_header)
        except ValueError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from exc
        if not 0 <= length <= MAX_BODY_BYTES:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body must be at most {MAX_BODY_BYTES} bytes, got {length}",
            )
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body must be at most {MAX_BODY_BYTES} bytes",
            )
        parts.append(chunk)
    return b"".join(parts)


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak or strong, or `*`)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


class NetworkMapServer:
    """The doorman and network map service behind one HTTPS listener, in a background thread."""

    def __init__(
        self,
        doorman: Doorman,
        service: NetworkMapService,
        ssl_context: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.doorman = doorman
        self.service = service
        self._encoded_map: tuple[SignedNetworkMap, bytes, str] | None = None
        self.app = Starlette(
            routes=[
                Route("/certificate", _guarded(self._register), methods=["POST"]),
                Route("/certificate/{ticket}", _guarded(self._registration), methods=["GET"]),
                Route("/publish", _guarded(self._publish), methods=["POST"]),
                Route("/network-map", _guarded(self._network_map), methods=["GET"]),
                Route("/network-map/crl", _guarded(self._crl), methods=["GET"]),
                Route("/node-info/{hash}", _guarded(self._node_info), methods=["GET"]),
                Route("/network-parameters/{hash}", _guarded(self._parameters), methods=["GET"]),
                Route("/health", _guarded(self._health), methods=["GET"]),
            ],
            exception_handlers={HTTPException: _refusal},
        )
        self._server = AppServer(self.app, ssl_context, host=host, port=port, name="networkmap")

    def start(self) -> None:
        """Bind and serve in a background thread; `port` 0 picks a free port (see `url`)."""
        self._server.start()
        log.info("network map service listening on %s", self.url)

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, and close the socket."""
        self._server.stop()

    @property
    def port(self) -> int:
        """The port bound by the last start(); kept after stop() for messages and restarts."""
        return self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> NetworkMapServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- endpoints --------------------------------------------------------------------------

    async def _register(self, request: Request) -> Response:
        registration = await run_in_threadpool(self.doorman.submit, await _body(request))
        return Response(registration.ticket.encode("ascii") + b"\n", media_type=TEXT)

    async def _registration(self, request: Request) -> Response:
        ticket = request.path_params["ticket"]
        registration = await run_in_threadpool(self.doorman.status, ticket)
        if registration.status is RegistrationStatus.APPROVED:
            assert registration.certificate_chain_pem is not None
            return Response(registration.certificate_chain_pem, media_type=PEM)
        if registration.status is RegistrationStatus.REJECTED:
            return _text(HTTPStatus.FORBIDDEN, f"rejected: {registration.reason}")
        if registration.status is RegistrationStatus.REVOKED:
            return _text(HTTPStatus.FORBIDDEN, f"revoked: {registration.reason}")
        return _text(
            HTTPStatus.ACCEPTED,
            f"pending: registration {ticket} awaits the doorman operator's approval",
        )

    async def _publish(self, request: Request) -> Response:
        node_info_hash = await run_in_threadpool(self.service.publish, await _body(request))
        return Response(f"{node_info_hash}\n".encode("ascii"), media_type=TEXT)

    async def _network_map(self, request: Request) -> Response:
        signed = await run_in_threadpool(self.service.signed_network_map)
        cached = self._encoded_map
        if cached is None or cached[0] is not signed:
            body = encode(signed)
            cached = self._encoded_map = (signed, body, _etag(body))
        _, body, etag = cached
        headers = {"ETag": etag, "Cache-Control": REVALIDATE}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=HTTPStatus.NOT_MODIFIED, headers=headers)
        return Response(body, media_type=CBOR, headers=headers)

    async def _crl(self, request: Request) -> Response:
        bundle = await run_in_threadpool(self.doorman.crl_bundle)
        if bundle is None:
            return _text(
                HTTPStatus.NOT_FOUND, "the doorman has issued no CRL yet: no node is revoked"
            )
        etag = _etag(bundle)
        headers = {"ETag": etag, "Cache-Control": REVALIDATE}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=HTTPStatus.NOT_MODIFIED, headers=headers)
        return Response(bundle, media_type=PEM, headers=headers)

    async def _node_info(self, request: Request) -> Response:
        node_info_hash = _parse_hash(request.path_params["hash"])
        signed = await run_in_threadpool(self.service.signed_node_info, node_info_hash)
        return Response(encode(signed), media_type=CBOR, headers={"Cache-Control": IMMUTABLE})

    async def _parameters(self, request: Request) -> Response:
        parameters_hash = _parse_hash(request.path_params["hash"])
        signed = await run_in_threadpool(self.service.signed_network_parameters, parameters_hash)
        return Response(encode(signed), media_type=CBOR, headers={"Cache-Control": IMMUTABLE})

    async def _health(self, request: Request) -> Response:
        return Response(b"ok\n", media_type=TEXT)
