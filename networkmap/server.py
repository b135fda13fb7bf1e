"""The doorman and network map over HTTPS, with the standard library only.

Endpoints (payloads are the canonical encoding, application/cbor, so signatures stay byte-exact;
errors are a 4xx/5xx status with a one-line text/plain reason):

    POST /certificate               PEM CSR            -> 200 ticket (text)
    GET  /certificate/<ticket>                         -> 200 chain PEM | 202 pending | 403 reason
    POST /publish                   SignedNodeInfo     -> 200 node info hash (text)
    GET  /network-map                                  -> 200 SignedNetworkMap
    GET  /node-info/<hash>                             -> 200 SignedNodeInfo
    GET  /network-parameters/<hash>                    -> 200 SignedNetworkParameters
    GET  /health                                       -> 200 "ok"

The TLS handshake runs in the request's worker thread, not the accept loop, so a client that
connects and stalls cannot hold up anyone else.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dlt.crypto import SecureHash
from dlt.encoding import encode
from networkmap.doorman import (
    Doorman,
    DoormanError,
    DuplicateNameError,
    InvalidRegistrationError,
    MissingSigningKeyError,
    RegistrationStateError,
    RegistrationStatus,
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

log = logging.getLogger(__name__)

CBOR = "application/cbor"
PEM = "application/x-pem-file"
TEXT = "text/plain; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_IO_TIMEOUT = 10.0

_ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    InvalidRegistrationError: HTTPStatus.BAD_REQUEST,
    DuplicateNameError: HTTPStatus.CONFLICT,
    UnknownTicketError: HTTPStatus.NOT_FOUND,
    RegistrationStateError: HTTPStatus.CONFLICT,
    MissingSigningKeyError: HTTPStatus.SERVICE_UNAVAILABLE,
    MalformedSubmissionError: HTTPStatus.BAD_REQUEST,
    NodeInfoRefusedError: HTTPStatus.FORBIDDEN,
    StaleNodeInfoError: HTTPStatus.CONFLICT,
    NetworkParametersRefusedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    NoNetworkParametersError: HTTPStatus.SERVICE_UNAVAILABLE,
}


class HttpError(Exception):
    """A request the handler refuses before reaching the services (bad path, body, method)."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def server_ssl_context(
    cert_chain: Path, key: Path, password: bytes | None = None
) -> ssl.SSLContext:
    """A TLS 1.2+ server context from a leaf-first PEM chain and its key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_chain, key, password)
    return context


class _TlsHttpServer(ThreadingHTTPServer):
    """A threading HTTP server that does each TLS handshake in the worker thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(
        self,
        address: tuple[str, int],
        context: ssl.SSLContext,
        app: NetworkMapServer,
        io_timeout: float,
    ) -> None:
        self.context = context
        self.app = app
        self.io_timeout = io_timeout
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Skip HTTPServer's reverse DNS lookup of the host: it can stall start-up."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake here, in the worker, under the I/O timeout; a failed one (e.g. a client
        that does not trust our root) ends only this connection."""
        raw: socket.socket = request
        raw.settimeout(self.io_timeout)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


class _Handler(BaseHTTPRequestHandler):
    """One request per connection: read a bounded body, route it, answer with a length."""

    server: _TlsHttpServer
    server_version = "dlt-networkmap"
    sys_version = ""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        try:
            request_body = self._read_body() if method == "POST" else b""
            status, content_type, body = app.route(method, self.path, request_body)
        except HttpError as exc:
            status, content_type, body = exc.status, TEXT, _line(exc.reason)
        except (DoormanError, NetworkMapServiceError) as exc:
            status = _status_for(exc)
            content_type, body = TEXT, _line(str(exc))
        except Exception:
            log.exception("internal error serving %s %s", method, self.path)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            content_type = TEXT
            body = _line("internal error in the network map service; see its log")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        try:
            length = int(length_header)
        except ValueError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from exc
        if not 0 <= length <= MAX_BODY_BYTES:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body must be at most {MAX_BODY_BYTES} bytes, got {length}",
            )
        return self.rfile.read(length)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


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
        io_timeout: float = DEFAULT_IO_TIMEOUT,
    ) -> None:
        self.doorman = doorman
        self.service = service
        self._context = ssl_context
        self._address = (host, port)
        self._io_timeout = io_timeout
        self._httpd: _TlsHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None

    def start(self) -> None:
        """Bind and serve in a background thread; `port` 0 picks a free port (see `url`)."""
        if self._httpd is not None:
            raise RuntimeError("the network map server is already running")
        self._httpd = _TlsHttpServer(self._address, self._context, self, self._io_timeout)
        self._bound_port = self._httpd.server_port
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="networkmap-https",
            daemon=True,
        )
        self._thread.start()
        log.info("network map service listening on %s", self.url)

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, and close the socket."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    @property
    def port(self) -> int:
        """The port bound by the last start(); kept after stop() for messages and restarts."""
        if self._bound_port is None:
            raise RuntimeError("the network map server has not been started; call start()")
        return self._bound_port

    @property
    def url(self) -> str:
        host = self._address[0]
        return f"https://{f'[{host}]' if ':' in host else host}:{self.port}"

    def __enter__(self) -> NetworkMapServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- routing ----------------------------------------------------------------------------

    def route(self, method: str, path: str, body: bytes) -> tuple[HTTPStatus, str, bytes]:
        """(status, content type, body) for one request; services raise typed errors."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        endpoint, args = parts[0], parts[1:]
        routes: dict[tuple[str, str, int], Callable[[], tuple[HTTPStatus, str, bytes]]] = {
            ("POST", "certificate", 0): lambda: self._register(body),
            ("GET", "certificate", 1): lambda: self._registration(args[0]),
            ("POST", "publish", 0): lambda: self._publish(body),
            ("GET", "network-map", 0): self._network_map,
            ("GET", "node-info", 1): lambda: self._node_info(args[0]),
            ("GET", "network-parameters", 1): lambda: self._parameters(args[0]),
            ("GET", "health", 0): lambda: (HTTPStatus.OK, TEXT, b"ok\n"),
        }
        handler = routes.get((method, endpoint, len(args)))
        if handler is not None:
            return handler()
        if any(key[1] == endpoint and key[2] == len(args) for key in routes):
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}")
        raise HttpError(
            HTTPStatus.NOT_FOUND,
            f"no endpoint {path}; see /certificate, /publish, /network-map, /node-info/<hash>, "
            "/network-parameters/<hash>, /health",
        )

    def _register(self, body: bytes) -> tuple[HTTPStatus, str, bytes]:
        registration = self.doorman.submit(body)
        return HTTPStatus.OK, TEXT, registration.ticket.encode("ascii") + b"\n"

    def _registration(self, ticket: str) -> tuple[HTTPStatus, str, bytes]:
        registration = self.doorman.status(ticket)
        if registration.status is RegistrationStatus.APPROVED:
            assert registration.certificate_chain_pem is not None
            return HTTPStatus.OK, PEM, registration.certificate_chain_pem
        if registration.status is RegistrationStatus.REJECTED:
            return HTTPStatus.FORBIDDEN, TEXT, _line(f"rejected: {registration.reason}")
        return (
            HTTPStatus.ACCEPTED,
            TEXT,
            _line(f"pending: registration {ticket} awaits the doorman operator's approval"),
        )

    def _publish(self, body: bytes) -> tuple[HTTPStatus, str, bytes]:
        node_info_hash = self.service.publish(body)
        return HTTPStatus.OK, TEXT, f"{node_info_hash}\n".encode("ascii")

    def _network_map(self) -> tuple[HTTPStatus, str, bytes]:
        return HTTPStatus.OK, CBOR, encode(self.service.signed_network_map())

    def _node_info(self, text: str) -> tuple[HTTPStatus, str, bytes]:
        return HTTPStatus.OK, CBOR, encode(self.service.signed_node_info(_parse_hash(text)))

    def _parameters(self, text: str) -> tuple[HTTPStatus, str, bytes]:
        signed = self.service.signed_network_parameters(_parse_hash(text))
        return HTTPStatus.OK, CBOR, encode(signed)
