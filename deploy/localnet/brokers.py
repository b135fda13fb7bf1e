"""The local network's private RabbitMQ: the `deploy.broker_service` process that keeps it, and
its users (`<home>/broker/users.json`, user -> inbox), which the service reconciles on SIGHUP:
a user no longer listed is deleted and its connections closed, which is how revocation shuts a
node out. A revoked node never gets a user again.

    <home>/broker/              the private RabbitMQ's data, config, logs and users.json
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
from pathlib import Path

from deploy.localnet.files import NetworkFiles
from deploy.localnet.processes import Processes, await_exit
from deploy.localnet.shape import Member, Ports, Say
from dlt.identity import X500Name
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.certificate_store import load_node_certificates


class LocalBroker:
    """The network's broker service and the users it holds."""

    def __init__(self, files: NetworkFiles, processes: Processes) -> None:
        self._files = files
        self._processes = processes
        self.home = files.home / "broker"

    @property
    def users_file(self) -> Path:
        return self.home / "users.json"

    def users(self) -> dict[str, str]:
        """Broker user -> inbox queue, as last written."""
        try:
            return dict(json.loads(self.users_file.read_text()))
        except FileNotFoundError:
            return {}

    def start(
        self,
        ports: Ports,
        members: list[Member],
        revoked: frozenset[X500Name],
        say: Say,
        timeout: float,
    ) -> None:
        """Start the broker service with a user for every member and every node added since,
        except the `revoked`; return once it is ready."""
        users = {
            user: inbox
            for user, inbox in self.users().items()
            if user not in {broker_user_name(name) for name in revoked}
        }
        for member in members:
            if member.x500 in revoked:
                continue
            certs = load_node_certificates(self._files.node_dir(member))
            users[broker_user_name(member.x500)] = inbox_queue_name(certs.party.owning_key)
        broker_home = self.home
        network_home = self._files.home
        broker_home.mkdir(exist_ok=True)
        # A supervisor killed with SIGKILL leaves its `ready` file behind: without this, the
        # wait below would return before the new broker is up.
        (broker_home / "ready").unlink(missing_ok=True)
        self.users_file.write_text(json.dumps(users, indent=2))
        say(f"Starting the private RabbitMQ (TLS only) on 127.0.0.1:{ports.broker}")
        self._processes.spawn(
            "broker",
            [
                sys.executable,
                "-m",
                "deploy.broker_service",
                "--home",
                str(broker_home),
                "--port",
                str(ports.broker),
                "--ca",
                str(network_home / "truststore.pem"),
                "--cert",
                str(network_home / "service" / "tls.pem"),
                "--key",
                str(network_home / "service" / "tls.key"),
                "--users",
                str(broker_home / "users.json"),
            ],
            self._files.log_file("broker"),
            broker_home,
        )
        self._processes.wait_for(lambda: (broker_home / "ready").exists(), "broker", timeout)
        say("RabbitMQ is ready")

    def remove_user(self, name: X500Name, timeout: float) -> None:
        """Take `name`'s user off the broker: deleted, its connections closed."""
        users = self.users()
        users.pop(broker_user_name(name), None)
        self.sync(users, timeout)

    def add_user(self, name: X500Name, inbox: str, timeout: float) -> None:
        """Give `name` its own-inbox user."""
        users = self.users()
        users[broker_user_name(name)] = inbox
        self.sync(users, timeout)

    def sync(self, users: dict[str, str], timeout: float) -> None:
        """Write the broker's users and, if it runs, have it reconcile (SIGHUP) and wait until
        it has: users not in `users` are deleted and their connections closed."""
        text = json.dumps(users, indent=2)
        self.users_file.write_text(text)
        pid = self._processes.pid("broker")
        if pid is None or not self._processes.alive("broker"):
            return
        done = self.home / "reconciled"
        digest = hashlib.sha256(text.encode()).hexdigest()
        os.kill(pid, signal.SIGHUP)

        def reconciled() -> bool:
            return done.exists() and done.read_text() == digest

        self._processes.wait_for(reconciled, "broker", timeout)

    def kill_nodes(self) -> None:
        """SIGKILL the RabbitMQ nodes under the broker's home, as a crash would, and drop their
        PID files (a zombie not yet reaped would pass for a live node)."""
        for pid_file in self.home.glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                node = int(pid_file.read_text().strip())
                os.killpg(os.getpgid(node), signal.SIGKILL)
                await_exit(node, 15.0)
                pid_file.unlink()  # a zombie not yet reaped would pass for a live node
