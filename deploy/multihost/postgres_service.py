"""`python -m deploy.multihost.postgres_service`: an organisation's PostgreSQL on its host.

Starts a private PostgreSQL cluster (dlt.testing.postgres: its own directory, a free loopback
port of the host it runs on, a random password; under root the server runs as `postgres`),
creates the databases named on the command line, writes {database: SQLAlchemy URL} to the
--ready file (mode 0600: it holds the password) and stops the cluster on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from dlt.testing.postgres import PostgresCluster, PostgresError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.multihost.postgres_service")
    parser.add_argument(
        "--directory",
        type=Path,
        help="where the cluster lives (the postgres user must reach it); default: a fresh "
        "directory in the system's temporary directory, removed when the cluster stops",
    )
    parser.add_argument("--database", action="append", default=[], required=True)
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.directory is not None:
        args.directory.mkdir(parents=True, exist_ok=True)
    try:
        cluster = PostgresCluster.start(args.directory)
    except PostgresError as exc:
        print(f"postgres: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        urls = {name: cluster.create_database(name) for name in args.database}
        descriptor = os.open(args.ready, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(urls, handle)
        print(f"postgres ready on port {cluster.port}: {', '.join(urls)}", flush=True)
        stop.wait()
    finally:
        args.ready.unlink(missing_ok=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
