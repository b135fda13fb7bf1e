"""Serve the explorer for one node until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from dlt.identity import X500Name
from dlt.web import AppServer, server_ssl_context
from explorer.app import create_app
from explorer.sessions import Sessions


def serve(
    rpc_address: str,
    ca_pem: bytes,
    tls_cert: Path,
    tls_key: Path,
    host: str,
    port: int,
    say: Callable[[str], None] = print,
    node_name: X500Name | None = None,
) -> None:
    """Run the explorer of the node at `rpc_address` (which must prove it is `node_name`, when
    given) on https://host:port until a signal."""
    app = create_app(Sessions(rpc_address, ca_pem, node_name))
    server = AppServer(
        app, server_ssl_context(tls_cert, tls_key), host=host, port=port, name="explorer"
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    try:
        say(f"explorer for the node at {rpc_address} listening on {server.url}")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
