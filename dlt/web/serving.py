"""An ASGI application served over TLS by uvicorn, in a background thread of its own.

The network map service and the explorer both serve this way: uvicorn (a well-kept ASGI server,
HTTP/1.1 keep-alive, TLS handshakes off the accept path) with an `ssl.SSLContext` the caller
built from its certificates. The listening socket is bound here, before uvicorn starts, so port
0 picks a free port and `port` says which, and a taken port fails in `start()` at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS = 75
"""How long an idle client connection stays open: longer than any poll interval nodes use."""

STARTUP_TIMEOUT = 20.0

TLS_CLOSE_SECONDS = 0.5
"""How long a closing connection waits for the client's TLS close_notify. asyncio's default
of 30 s would hold up every stop while a kept-alive client sits idle without reading."""


class AppServerError(Exception):
    """The server could not start: its address is taken, or uvicorn failed to come up."""


def server_ssl_context(
    cert_chain: Path, key: Path, password: bytes | None = None
) -> ssl.SSLContext:
    """A TLS 1.2+ server context from a leaf-first PEM chain and its key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_chain, key, password)
    return context


async def _serve(server: uvicorn.Server, listener: socket.socket) -> None:
    """Run `server` on `listener`, its TLS connections closing within TLS_CLOSE_SECONDS."""
    loop = asyncio.get_running_loop()
    loop.create_server = functools.partial(  # type: ignore[method-assign]
        loop.create_server, ssl_shutdown_timeout=TLS_CLOSE_SECONDS
    )
    await server.serve(sockets=[listener])


class AppServer:
    """Serves `app` on `host:port` over TLS until `stop()`; `port` 0 picks a free port."""

    def __init__(
        self,
        app: Any,
        ssl_context: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "https",
    ) -> None:
        self.app = app
        self._context = ssl_context
        self._address = (host, port)
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None

    def start(self) -> None:
        """Bind, then serve in a background thread; returns once requests are answered."""
        if self._server is not None:
            raise RuntimeError(f"the {self._name} server is already running")
        listener = self._bind()
        config = uvicorn.Config(
            self.app,
            http="h11",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            ssl_context_factory=lambda _config, _default: self._context,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=lambda: asyncio.run(_serve(server, listener)),
            name=self._name,
            daemon=True,
        )
        thread.start()
        # `started` is a plain flag that uvicorn sets once it accepts; poll it with a bound.
        pause = threading.Event()
        for _ in range(int(STARTUP_TIMEOUT / 0.01)):
            if server.started or not thread.is_alive():
                break
            pause.wait(0.01)
        if not server.started:
            server.should_exit = True
            thread.join(5)
            listener.close()
            raise AppServerError(f"the {self._name} server on {self.url} did not start")
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish, and close every connection."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join()
        self._server = self._thread = None

    def _bind(self) -> socket.socket:
        host, port = self._address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            raise AppServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        listener.listen(128)
        self._bound_port = listener.getsockname()[1]
        return listener

    @property
    def port(self) -> int:
        """The port bound by the last start(); kept after stop() for messages and restarts."""
        if self._bound_port is None:
            raise RuntimeError(f"the {self._name} server has not been started; call start()")
        return self._bound_port

    @property
    def url(self) -> str:
        host = self._address[0]
        return f"https://{f'[{host}]' if ':' in host else host}:{self.port}"

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
