"""`python -m deploy.broker_service`: keep a local network's private RabbitMQ running.

A PrivateBroker stops when the process that started it ends; this process is that owner for a
local network. It starts the broker, provisions one user per node (its broker user name, allowed
only its own inbox), writes a `ready` file, and on SIGTERM or SIGINT stops exactly that broker.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from deploy.rabbitmq import BrokerError, PrivateBroker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.broker_service")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", type=Path, required=True, help="PEM the clients' chains end in")
    parser.add_argument("--cert", type=Path, required=True, help="broker TLS chain, leaf first")
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--users", type=Path, required=True, help="JSON {broker user: inbox}")
    args = parser.parse_args(argv)
    ready = args.home / "ready"
    ready.unlink(missing_ok=True)
    broker = PrivateBroker(
        args.home,
        args.port,
        None,
        None,
        args.ca.read_bytes(),
        args.cert.read_bytes(),
        args.key.read_bytes(),
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        broker.start()
        broker.provision(json.loads(args.users.read_text()))
    except BrokerError as exc:
        print(f"broker: {exc}", file=sys.stderr, flush=True)
        broker.stop()
        return 1
    ready.write_text(broker.url())
    print(f"broker ready at {broker.url()}", flush=True)
    try:
        stop.wait()
    finally:
        ready.unlink(missing_ok=True)
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
