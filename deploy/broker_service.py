"""`python -m deploy.broker_service`: keep a local network's private RabbitMQ running.

A PrivateBroker stops when the process that started it ends; this process is that owner for a
local network. It starts the broker, provisions one user per node (its broker user name, allowed
only its own inbox), writes a `ready` file, and on SIGTERM or SIGINT stops exactly that broker.
On SIGHUP it brings the broker in step with the users file again: users added to it are
provisioned, users gone from it (a revoked node) are deleted and their connections closed; it
then writes the file's SHA-256 to `reconciled`, which `Localnet` waits for.
"""

from __future__ import annotations

import argparse
import hashlib
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
    reconcile = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reconcile.set())
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
        while not stop.wait(0.2):
            if reconcile.is_set():
                reconcile.clear()
                _reconcile(broker, args.users, args.home / "reconciled")
    finally:
        ready.unlink(missing_ok=True)
        broker.stop()
    return 0


def _reconcile(broker: PrivateBroker, users_file: Path, done: Path) -> None:
    """Provision the users the file names and shut out every other user the broker has."""
    data = users_file.read_bytes()
    wanted: dict[str, str] = json.loads(data)
    try:
        broker.provision(wanted)
        for user in sorted(set(broker.list_users()) - set(wanted)):
            broker.revoke_user(user, "removed from the local network's broker users")
            print(f"broker: shut out {user}", flush=True)
    except BrokerError as exc:
        print(f"broker: cannot reconcile users: {exc}", file=sys.stderr, flush=True)
        return
    done.write_text(hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    sys.exit(main())
