"""`Localnet`: one local network under one directory, brought up, revoked from, and brought
down; it composes the network's files, its process supervision and its broker.

    <home>/pids/                PID of every process `up` started; `down` stops exactly those
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import sys
import time
from pathlib import Path

import httpx

from deploy.localnet.brokers import LocalBroker
from deploy.localnet.byzantine import configure_byzantine, plan_byzantine_shape
from deploy.localnet.errors import LocalnetError
from deploy.localnet.files import NetworkFiles
from deploy.localnet.processes import Processes, stop
from deploy.localnet.shape import EXPLORER_NODE, Member, Ports, Say, Shape, Status
from deploy.rabbitmq import ensure_rabbitmq_installed
from dlt.identity import X500Name
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.network_map_client import NetworkMapClient, NetworkMapClientError
from dlt.rpc.client import RpcClient, RpcError
from networkmap.bootstrap import NetworkHome
from networkmap.doorman import Doorman, DoormanError

HOME_ENV = "DLT_HOME"
DEFAULT_HOME = Path("localnet")


def resolve_home(home: Path | None = None) -> Path:
    """`--home`, else $DLT_HOME, else ./localnet: how every `dlt` command finds the network."""
    if home is not None:
        return home
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)


class Localnet:
    """The network in `home`: its files, the processes `up` started, and its broker, each a
    part of its own; this class only sequences them (create, up, revoke, down, status)."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.files = NetworkFiles(self.home)
        self.processes = Processes(self.home / "pids", self.files.tail)
        self.broker = LocalBroker(self.files, self.processes)

    # -- layout -----------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.files.state_file

    @property
    def exists(self) -> bool:
        return self.files.exists

    def node_dir(self, member: Member) -> Path:
        return self.files.node_dir(member)

    def log_file(self, component: str) -> Path:
        return self.files.log_file(component)

    @property
    def members(self) -> list[Member]:
        return self.files.members

    def member(self, name: str) -> Member:
        """A member by slug, X.500 name or organisation (case-insensitive)."""
        return self.files.member(name)

    def tail(self, component: str, lines: int = 40) -> str:
        return self.files.tail(component, lines)

    # -- creating and reconfiguring ---------------------------------------------------------

    def create(self, shape: Shape, say: Say) -> None:
        """Build the network offline: certificates, parameters, configs and RPC credentials."""
        self.files.create(shape, say)

    def configure_byzantine(self, faulty: dict[str, str], allow_unsafe: bool, say: Say) -> bool:
        """Make the replicas `faulty` names faulty and every other replica honest (see
        byzantine.configure_byzantine). Returns whether any replica changed."""
        return configure_byzantine(self.files, self.processes, faulty, allow_unsafe, say)

    def set_rpc_user(
        self, node: str, username: str, password: str, permissions: list[str], say: Say
    ) -> None:
        """Give `node` an RPC user `username` (for drills: one with fewer permissions),
        replacing one so named; the node is stopped so the next `up` starts it with the user."""
        member = self.member(node)
        self.files.set_rpc_user(member, username, password, permissions)
        pid = self.processes.pid(member.slug)
        if pid is not None and self.processes.alive(member.slug):
            say(f"Restarting {member.slug} with RPC user {username}")
            stop(pid, 20.0)

    # -- starting ---------------------------------------------------------------------------

    def up(self, shape: Shape, say: Say, timeout: float = 120.0) -> list[Status]:
        ensure_rabbitmq_installed()
        if shape.byzantine is not None and not self.exists:
            plan_byzantine_shape(shape)
        self.create(shape, say)
        if shape.byzantine is not None:
            self.configure_byzantine(shape.byzantine, shape.allow_unsafe, say)
        ports, members = self.files.load()
        (self.home / "pids").mkdir(exist_ok=True)
        if not self.processes.alive("broker"):
            self.broker.start(ports, members, self._doorman().revoked_names(), say, timeout)
        self._start_network_map(ports, say, timeout)
        revoked = {str(name) for name in self._doorman().revoked_names()}
        running = [m for m in members if not m.crashed and m.name not in revoked]
        for member in running:
            self._start_node(member, say)
        self._await_nodes(running, say, timeout)
        self._start_explorer(ports, members, say, timeout)
        return self.status()

    def _start_explorer(
        self, ports: Ports, members: list[Member], say: Say, timeout: float
    ) -> None:
        node = next((m for m in members if m.role == EXPLORER_NODE), None)
        if ports.explorer == 0 or node is None or self.processes.alive("explorer"):
            return
        say(f"Starting the explorer for {node.name} on https://127.0.0.1:{ports.explorer}")
        self.processes.spawn(
            "explorer",
            [
                *(sys.executable, "-m", "explorer", "--home", str(self.home)),
                *("--node", node.slug, "--listen", f"127.0.0.1:{ports.explorer}"),
            ],
            self.log_file("explorer"),
            self.home,
        )
        root = (self.home / "truststore.pem").read_bytes()

        def healthy() -> bool:
            return _answers_https(f"https://127.0.0.1:{ports.explorer}/login", root)

        self.processes.wait_for(healthy, "explorer", timeout)

    def _start_network_map(self, ports: Ports, say: Say, timeout: float) -> None:
        if self.processes.alive("networkmap"):
            return
        say(f"Starting the doorman and network map on https://127.0.0.1:{ports.network_map}")
        self.processes.spawn(
            "networkmap",
            [
                sys.executable,
                "-m",
                "networkmap",
                "serve",
                "--home",
                str(self.home),
                "--address",
                f"127.0.0.1:{ports.network_map}",
                "--dev",
            ],
            self.log_file("networkmap"),
            self.home,
        )
        client = NetworkMapClient(
            f"https://127.0.0.1:{ports.network_map}", (self.home / "truststore.pem").read_bytes()
        )

        def healthy() -> bool:
            try:
                client.health()
            except NetworkMapClientError:
                return False
            return True

        self.processes.wait_for(healthy, "networkmap", timeout)
        say("The doorman and network map answer")

    def _start_node(self, member: Member, say: Say) -> None:
        if self.processes.alive(member.slug):
            return
        faulty = f", FAULTY: {member.byzantine}" if member.byzantine else ""
        say(f"Starting {member.name} ({member.role}{faulty})")
        directory = self.node_dir(member)
        self.processes.spawn(
            member.slug,
            [sys.executable, "-m", "dlt.node", "--config", str(directory / "config.json")],
            self.log_file(member.slug),
            directory,
        )

    def _await_nodes(self, members: list[Member], say: Say, timeout: float) -> None:
        everyone = {str(member.x500) for member in members}

        async def ready(member: Member) -> bool:
            """Reachable by RPC, and seeing every other node on its network map."""
            rpc = json.loads((self.node_dir(member) / "rpc.json").read_text())
            ca = (self.node_dir(member) / rpc["ca"]).read_bytes()
            try:
                async with RpcClient(
                    rpc["address"], rpc["username"], rpc["password"], ca, node_name=member.x500
                ) as client:
                    peers = (await client.network_map()).peers
            except RpcError:
                return False
            return everyone <= {str(X500Name.parse(peer.name)) for peer in peers}

        waiting = list(members)
        deadline = time.monotonic() + timeout
        while waiting:
            for member in list(waiting):
                if not self.processes.alive(member.slug):
                    raise LocalnetError(
                        f"{member.name} stopped while starting; its log "
                        f"({self.log_file(member.slug)}) ends with:\n{self.tail(member.slug, 15)}"
                    )
                if asyncio.run(ready(member)):
                    waiting.remove(member)
                    up = len(members) - len(waiting)
                    say(f"{member.name} is up and sees every node ({up} of {len(members)})")
            if waiting and time.monotonic() > deadline:
                names = ", ".join(m.name for m in waiting)
                raise LocalnetError(
                    f"{names} did not come up, or do not see every other node, within "
                    f"{timeout:.0f} s; see their logs (dlt localnet logs NAME)"
                )
            if waiting:
                time.sleep(0.5)
        say(f"All {len(members)} nodes are up and see each other")

    # -- revocation -------------------------------------------------------------------------

    def _doorman(self) -> Doorman:
        """The doorman over the network's database, with its (dev, unencrypted) CA key: the
        operator's seat, as `python -m networkmap approve|revoke` takes it."""
        home = NetworkHome(self.home)
        return Doorman(
            home.database,
            root_cert=home.load_cert(home.root_cert),
            doorman_cert=home.load_cert(home.doorman_cert),
            doorman_key=home.load_key(home.doorman_key),
        )

    def revoke(self, name: X500Name, reason: str, say: Say, timeout: float = 60.0) -> None:
        """Revoke `name` at the doorman (its certificates go on the CRL the map serves, the map
        drops it), then shut it out of the broker: its user deleted, its connections closed."""
        try:
            self._doorman().revoke(name, reason)
        except DoormanError as exc:
            raise LocalnetError(f"cannot revoke {name}: {exc}") from exc
        say(f"The doorman revoked {name}: {reason}")
        self.broker.remove_user(name, timeout)
        say(f"The broker shut out {broker_user_name(name)}")

    def add_broker_user(self, name: X500Name, inbox: str, timeout: float = 60.0) -> None:
        """Give a node admitted after `create` (see the attack suite) its own-inbox user."""
        self.broker.add_user(name, inbox, timeout)

    # -- stopping and status ----------------------------------------------------------------

    def down(self, say: Say, grace: float = 20.0) -> None:
        """Stop nodes first, then the network map, then the broker, each by its PID."""
        _, members = self.files.load()
        order = [m.slug for m in members if not m.is_notary]
        order = ["explorer", *order]
        order += [m.slug for m in members if m.is_notary] + ["networkmap", "broker"]
        for component in order:
            pid = self.processes.pid(component)
            if pid is not None and self.processes.alive(component):
                say(f"Stopping {component} (pid {pid})")
                stop(pid, grace)
            self.processes.pid_file(component).unlink(missing_ok=True)

    def kill(self, component: str) -> None:
        """SIGKILL one component, as a crash would (for tests and drills). For the broker that
        is the RabbitMQ node itself as well as the process keeping it, so `up` can start a new
        one at once (a node left behind would hold its ports and data directory)."""
        pid = self.processes.pid(component)
        if pid is None or not self.processes.alive(component):
            raise LocalnetError(f"{component} is not running")
        if component == "broker":
            self.broker.kill_nodes()
        os.killpg(pid, signal.SIGKILL)

    def status(self) -> list[Status]:
        ports, members = self.files.load()
        alive, pid = self.processes.alive, self.processes.pid
        rows = [
            Status(
                "broker",
                "message broker",
                pid("broker"),
                alive("broker"),
                f"amqps://127.0.0.1:{ports.broker}",
            ),
            Status(
                "networkmap",
                "doorman + network map",
                pid("networkmap"),
                alive("networkmap"),
                f"https://127.0.0.1:{ports.network_map}",
            ),
        ]
        if ports.explorer:
            rows.append(
                Status(
                    "explorer",
                    f"web explorer ({EXPLORER_NODE})",
                    pid("explorer"),
                    alive("explorer"),
                    f"https://127.0.0.1:{ports.explorer}",
                )
            )
        for member in members:
            rows.append(
                Status(
                    member.slug,
                    f"{member.role} (faulty: {member.byzantine})"
                    if member.byzantine
                    else member.role,
                    pid(member.slug),
                    alive(member.slug),
                    f"rpc 127.0.0.1:{member.rpc_port}, metrics :{member.metrics_port}",
                    stopped_on_purpose=member.crashed,
                )
            )
        return rows


def _answers_https(url: str, root_pem: bytes) -> bool:
    """Whether `url` answers 200 over TLS verified against the network root."""
    context = ssl.create_default_context(cadata=root_pem.decode("ascii"))
    try:
        return httpx.get(url, verify=context, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False
