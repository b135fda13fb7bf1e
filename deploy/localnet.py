"""A local network under one directory: private RabbitMQ, network map, notaries and parties.

    <home>/localnet.json        who is in the network and which ports they use
    <home>/ca, service, ...     the network built offline by the bootstrapper (see networkmap)
    <home>/broker/              the private RabbitMQ's data, config and logs
    <home>/nodes/<slug>/        each node: certificates, config.json, rpc.json, node.db, node.log
    <home>/pids/                PID of every process `up` started; `down` stops exactly those

`up` creates what is missing and starts what is not running, so it is safe to run again (it
also restarts a node that died). `down` stops every process it started, by PID. `revoke` has
the doorman revoke a node and the broker shut it out (its user deleted, its connections
closed); `up` neither starts a revoked node nor gives it a broker user again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from cordapp_energy.market_rules import MARKET_RULES_SIGNERS
from cordapp_energy.meters import METER_CA_SIGNERS
from deploy.monitoring import write_monitoring_files
from deploy.rabbitmq import ensure_rabbitmq_installed, free_port
from dlt.identity import X500Name
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.certificate_store import load_node_certificates
from dlt.node.network_map_client import NetworkMapClient, NetworkMapClientError
from dlt.rpc.client import RpcClient, RpcError
from dlt.rpc.users import hash_password
from networkmap.bootstrap import NetworkHome, bootstrap_network
from networkmap.doorman import Doorman, DoormanError

HOME_ENV = "DLT_HOME"
DEFAULT_HOME = Path("localnet")
CORDAPPS = ("cordapp_energy", "cordapp_energy.attacks", "attacks.flows")
"""A development network also carries the attack-injection flows, to try them from the CLI
and for the attack suite (`dlt attack`)."""
STATE_FILE = "localnet.json"
RPC_USER = "operator"
EXPLORER_NODE = "market-operator"
CRASH = "crash"
METERS_INSTALLED_BEFORE = timedelta(days=366)
"""A local network's meters are certified from a year back, so the community's recorded days
(the simulator replays June) can be attested on it."""
"""The Byzantine mode that is a process not running, rather than one behaving badly."""
BYZANTINE_SERVICE = "notary.byzantine"
"""The node whose explorer `up` starts: the one that sees the whole market."""

Say = Callable[[str], None]


class LocalnetError(Exception):
    """The local network could not be created, started or stopped; the message says why."""


def resolve_home(home: Path | None = None) -> Path:
    """`--home`, else $DLT_HOME, else ./localnet: how every `dlt` command finds the network."""
    if home is not None:
        return home
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)


class Shape(BaseModel):
    """How many of each party the network has."""

    notaries: int = Field(default=1, ge=1, le=9)
    replicas: int = Field(default=1, ge=1, le=10)
    """Replicas per notary service: 1 for a single node, 3f+1 to tolerate f faulty ones."""
    validating: bool = False
    producers: int = Field(default=2, ge=1, le=50)
    consumers: int = Field(default=2, ge=1, le=50)
    cordapps: tuple[str, ...] = ()
    """CorDapp packages every node installs besides the energy CorDapp (e.g. cordapp_bench)."""
    database_url: str | None = Field(default=None, pattern=r"\{node\}")
    """A SQLAlchemy URL with `{node}` in it, replaced by each node's database name
    (`database_name(member)`); the databases must exist. SQLite files when not given."""
    byzantine: dict[str, str] | None = None
    """Faulty notary replicas for attack drills: replica (slug) -> mode (`notary.byzantine`).
    None leaves an existing network's replicas as they are configured; {} makes all honest."""
    allow_unsafe: bool = False
    """Allow more than f faulty replicas in a cluster (to show what f + 1 break)."""


@dataclass(frozen=True)
class Member:
    name: str
    slug: str
    role: str
    rpc_port: int
    metrics_port: int
    validating: bool = False
    service: str | None = None
    """For a notary replica: the X.500 name of its notary service..."""
    service_key: str | None = None
    """...and the service's composite key, in the text form configs use."""
    byzantine: str | None = None
    """For a notary replica configured faulty: its mode (`notary.byzantine.Behaviour` text)."""

    @property
    def x500(self) -> X500Name:
        return X500Name.parse(self.name)

    @property
    def is_notary(self) -> bool:
        return self.role == "notary"

    @property
    def crashed(self) -> bool:
        """Configured as a crashed replica: `up` does not start it."""
        return self.byzantine == CRASH


@dataclass(frozen=True)
class Ports:
    broker: int
    network_map: int
    explorer: int = 0
    """The market operator's web explorer; 0 in networks created before it existed."""


@dataclass(frozen=True)
class Status:
    component: str
    role: str
    pid: int | None
    running: bool
    address: str
    stopped_on_purpose: bool = False
    """A replica configured as crashed: not running is what it should be doing."""


def _service_names(shape: Shape) -> list[str]:
    if shape.notaries == 1:
        return ["O=Notary Service, L=Zurich, C=CH"]
    return [f"O=Notary Service {i}, L=Zurich, C=CH" for i in range(1, shape.notaries + 1)]


def _parties_for(shape: Shape) -> list[tuple[str, str]]:
    return [
        ("O=Market Operator, L=London, C=GB", "market-operator"),
        ("O=Community Bank, L=London, C=GB", "payment-issuer"),
        *[(f"O=Producer {i}, L=Leeds, C=GB", "producer") for i in range(1, shape.producers + 1)],
        *[(f"O=Consumer {i}, L=York, C=GB", "consumer") for i in range(1, shape.consumers + 1)],
    ]


class Localnet:
    def __init__(self, home: Path) -> None:
        self.home = home.resolve()

    # -- layout -----------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    @property
    def exists(self) -> bool:
        return self.state_file.exists()

    def _pid_file(self, component: str) -> Path:
        return self.home / "pids" / f"{component}.pid"

    def node_dir(self, member: Member) -> Path:
        return self.home / "nodes" / member.slug

    def log_file(self, component: str) -> Path:
        if component == "broker":
            return self.home / "broker" / "service.log"
        if component == "networkmap":
            return self.home / "networkmap.log"
        if component == "explorer":
            return self.home / "explorer.log"
        member = self.member(component)
        return self.node_dir(member) / "node.log"

    def _load(self) -> tuple[Ports, list[Member]]:
        if not self.exists:
            raise LocalnetError(
                f"no local network in {self.home}; create one with: dlt localnet up"
            )
        raw = json.loads(self.state_file.read_text())
        return Ports(**raw["ports"]), [Member(**m) for m in raw["members"]]

    @property
    def members(self) -> list[Member]:
        return self._load()[1]

    def member(self, name: str) -> Member:
        """A member by slug, X.500 name or organisation (case-insensitive)."""
        wanted = name.strip().lower()
        try:
            as_x500: X500Name | None = X500Name.parse(name) if "=" in name else None
        except ValueError:
            as_x500 = None
        for member in self.members:
            if as_x500 is not None and member.x500 == as_x500:
                return member
            organisation = member.x500.organisation.lower()
            aliases = (member.slug, member.name.lower(), organisation, _slug(organisation))
            if wanted in aliases:
                return member
        known = ", ".join(m.slug for m in self.members)
        raise LocalnetError(f"no node {name!r} in {self.home}; nodes: {known}")

    # -- creating ---------------------------------------------------------------------------

    def create(self, shape: Shape, say: Say) -> None:
        """Build the network offline: certificates, parameters, configs and RPC credentials."""
        if self.exists:
            return
        if self.home.exists() and any(self.home.iterdir()):
            raise LocalnetError(
                f"{self.home} is not empty and holds no local network; pick another --home"
            )
        say(f"Creating a local network in {self.home}")
        services = [X500Name.parse(name) for name in _service_names(shape)]
        parties = _parties_for(shape)
        operators = [X500Name.parse(name) for name, role in parties if role == "market-operator"]
        common: dict[str, Any] = {
            "nodes": [X500Name.parse(name) for name, _ in parties],
            "dev": True,
            "trusted_signers": {MARKET_RULES_SIGNERS: operators},
            "meters": [X500Name.parse(name) for name, role in parties if role == "producer"],
            "meters_since": datetime.now(UTC) - METERS_INSTALLED_BEFORE,
            "doorman_trusted_for": [METER_CA_SIGNERS],
        }
        if shape.replicas == 1:
            result = bootstrap_network(
                self.home, notaries=[(service, shape.validating) for service in services], **common
            )
        else:
            result = bootstrap_network(
                self.home,
                notary_clusters=[(s, shape.validating, shape.replicas) for s in services],
                **common,
            )
        clustered = {
            replica.name
            for info in result.parameters.notaries
            if info.replicas
            for replica in info.replicas
        }
        service_of = {
            replica.name: info.identity
            for info in result.parameters.notaries
            for replica in info.replica_parties
        }
        ports = Ports(broker=free_port(), network_map=free_port(), explorer=free_port())
        members = [
            Member(
                name=str(node.name),
                slug=node.slug,
                role=dict(parties).get(str(node.name), "notary"),
                rpc_port=free_port(),
                metrics_port=free_port(),
                validating=shape.validating if node.notary is not None else False,
                service=str(service_of[node.name].name) if node.name in clustered else None,
                service_key=(
                    service_of[node.name].owning_key.to_string() if node.name in clustered else None
                ),
            )
            for node in sorted(result.nodes, key=lambda n: (n.notary is None, str(n.name)))
        ]
        for member in members:
            self._write_node_files(member, ports, shape)
        self._save(ports, members)
        write_monitoring_files(self.home, members)

    def _notary_config(self, member: Member) -> dict[str, object] | None:
        if not member.is_notary:
            return None
        config: dict[str, object] = {"validating": member.validating}
        if member.service is not None:
            config["service"] = {"name": member.service, "owning_key": member.service_key}
        if member.byzantine is not None and not member.crashed:
            config["service_module"] = BYZANTINE_SERVICE
            config["behaviour"] = member.byzantine
        return config

    # -- faulty replicas --------------------------------------------------------------------

    def configure_byzantine(self, faulty: dict[str, str], allow_unsafe: bool, say: Say) -> bool:
        """Make the replicas `faulty` names (slug -> mode) faulty and every other replica
        honest; refuse more than f per cluster unless `allow_unsafe`. Stops each replica whose
        behaviour changed, so the next `up` starts it as configured. Returns whether any did."""
        ports, members = self._load()
        wanted = plan_byzantine(members, faulty, allow_unsafe)
        changed = [m for m in members if m.is_notary and wanted.get(m.slug) != m.byzantine]
        if not changed:
            return False
        members = [replace(m, byzantine=wanted.get(m.slug)) if m.is_notary else m for m in members]
        by_slug = {m.slug: m for m in members}
        running = [m.slug for m in changed if self._alive(m.slug)]
        for slug in running:
            say(f"Stopping {slug} to reconfigure it")
        _stop_all([pid for slug in running if (pid := self._pid(slug)) is not None], 20.0)
        for old in changed:
            member = by_slug[old.slug]
            path = self.node_dir(member) / "config.json"
            config = json.loads(path.read_text())
            config["notary"] = self._notary_config(member)
            _write_private(path, config)
            say(f"{member.slug} is now {member.byzantine or 'honest'}")
        self._save(ports, members)
        return True

    def set_rpc_user(
        self, node: str, username: str, password: str, permissions: list[str], say: Say
    ) -> None:
        """Give `node` an RPC user `username` (for drills: one with fewer permissions),
        replacing one so named; the node is stopped so the next `up` starts it with the user."""
        member = self.member(node)
        path = self.node_dir(member) / "config.json"
        config = json.loads(path.read_text())
        users = [u for u in config["rpc"]["users"] if u["username"] != username]
        users.append(
            {
                "username": username,
                "password_hash": hash_password(password),
                "permissions": permissions,
            }
        )
        config["rpc"]["users"] = users
        _write_private(path, config)
        pid = self._pid(member.slug)
        if pid is not None and self._alive(member.slug):
            say(f"Restarting {member.slug} with RPC user {username}")
            _stop(pid, 20.0)

    def _save(self, ports: Ports, members: list[Member]) -> None:
        self.state_file.write_text(
            json.dumps({"ports": asdict(ports), "members": [asdict(m) for m in members]}, indent=2)
        )

    def _write_node_files(self, member: Member, ports: Ports, shape: Shape) -> None:
        directory = self.node_dir(member)
        password = secrets.token_urlsafe(18)
        config = {
            "name": member.name,
            "directory": ".",
            "database_url": (
                shape.database_url.replace("{node}", database_name(member))
                if shape.database_url
                else None
            ),
            "messaging": {"broker_url": f"amqps://127.0.0.1:{ports.broker}/%2F"},
            "rpc": {
                "address": f"127.0.0.1:{member.rpc_port}",
                "users": [
                    {
                        "username": RPC_USER,
                        "password_hash": hash_password(password),
                        "permissions": ["ALL"],
                    }
                ],
            },
            "metrics": {"address": f"127.0.0.1:{member.metrics_port}"},
            "network_map": {"url": f"https://127.0.0.1:{ports.network_map}", "poll_seconds": 1.0},
            "notary": self._notary_config(member),
            "cordapps": list(dict.fromkeys([*CORDAPPS, *shape.cordapps])),
        }
        _write_private(directory / "config.json", config)
        rpc = {
            "name": member.name,
            "address": f"127.0.0.1:{member.rpc_port}",
            "ca": "truststore.pem",
            "username": RPC_USER,
            "password": password,
        }
        _write_private(directory / "rpc.json", rpc)

    # -- starting ---------------------------------------------------------------------------

    def up(self, shape: Shape, say: Say, timeout: float = 120.0) -> list[Status]:
        ensure_rabbitmq_installed()
        if shape.byzantine is not None and not self.exists:
            plan_byzantine_shape(shape)
        self.create(shape, say)
        if shape.byzantine is not None:
            self.configure_byzantine(shape.byzantine, shape.allow_unsafe, say)
        ports, members = self._load()
        (self.home / "pids").mkdir(exist_ok=True)
        self._start_broker(ports, members, say, timeout)
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
        if ports.explorer == 0 or node is None or self._alive("explorer"):
            return
        say(f"Starting the explorer for {node.name} on https://127.0.0.1:{ports.explorer}")
        self._spawn(
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

        self._wait_for(healthy, "explorer", timeout)

    def _spawn(self, component: str, argv: list[str], log: Path, cwd: Path) -> int:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self._pid_file(component).write_text(f"{process.pid} {_start_time(process.pid)}")
        return process.pid

    def _start_broker(self, ports: Ports, members: list[Member], say: Say, timeout: float) -> None:
        if self._alive("broker"):
            return
        revoked = self._doorman().revoked_names()
        users = {
            user: inbox
            for user, inbox in self._broker_users().items()
            if user not in {broker_user_name(name) for name in revoked}
        }
        for member in members:
            if member.x500 in revoked:
                continue
            certs = load_node_certificates(self.node_dir(member))
            users[broker_user_name(member.x500)] = inbox_queue_name(certs.party.owning_key)
        broker_home = self.home / "broker"
        broker_home.mkdir(exist_ok=True)
        # A supervisor killed with SIGKILL leaves its `ready` file behind: without this, the
        # wait below would return before the new broker is up.
        (broker_home / "ready").unlink(missing_ok=True)
        self._users_file.write_text(json.dumps(users, indent=2))
        say(f"Starting the private RabbitMQ (TLS only) on 127.0.0.1:{ports.broker}")
        self._spawn(
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
                str(self.home / "truststore.pem"),
                "--cert",
                str(self.home / "service" / "tls.pem"),
                "--key",
                str(self.home / "service" / "tls.key"),
                "--users",
                str(broker_home / "users.json"),
            ],
            self.log_file("broker"),
            broker_home,
        )
        self._wait_for(lambda: (broker_home / "ready").exists(), "broker", timeout)
        say("RabbitMQ is ready")

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

    @property
    def _users_file(self) -> Path:
        return self.home / "broker" / "users.json"

    def _broker_users(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._users_file.read_text()))
        except FileNotFoundError:
            return {}

    def revoke(self, name: X500Name, reason: str, say: Say, timeout: float = 60.0) -> None:
        """Revoke `name` at the doorman (its certificates go on the CRL the map serves, the map
        drops it), then shut it out of the broker: its user deleted, its connections closed."""
        try:
            self._doorman().revoke(name, reason)
        except DoormanError as exc:
            raise LocalnetError(f"cannot revoke {name}: {exc}") from exc
        say(f"The doorman revoked {name}: {reason}")
        users = self._broker_users()
        users.pop(broker_user_name(name), None)
        self._sync_broker(users, timeout)
        say(f"The broker shut out {broker_user_name(name)}")

    def add_broker_user(self, name: X500Name, inbox: str, timeout: float = 60.0) -> None:
        """Give a node admitted after `create` (see the attack suite) its own-inbox user."""
        users = self._broker_users()
        users[broker_user_name(name)] = inbox
        self._sync_broker(users, timeout)

    def _sync_broker(self, users: dict[str, str], timeout: float) -> None:
        """Write the broker's users and, if it runs, have it reconcile (SIGHUP) and wait until
        it has: users not in `users` are deleted and their connections closed."""
        text = json.dumps(users, indent=2)
        self._users_file.write_text(text)
        pid = self._pid("broker")
        if pid is None or not self._alive("broker"):
            return
        done = self.home / "broker" / "reconciled"
        digest = hashlib.sha256(text.encode()).hexdigest()
        os.kill(pid, signal.SIGHUP)

        def reconciled() -> bool:
            return done.exists() and done.read_text() == digest

        self._wait_for(reconciled, "broker", timeout)

    def _start_network_map(self, ports: Ports, say: Say, timeout: float) -> None:
        if self._alive("networkmap"):
            return
        say(f"Starting the doorman and network map on https://127.0.0.1:{ports.network_map}")
        self._spawn(
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

        self._wait_for(healthy, "networkmap", timeout)
        say("The doorman and network map answer")

    def _start_node(self, member: Member, say: Say) -> None:
        if self._alive(member.slug):
            return
        faulty = f", FAULTY: {member.byzantine}" if member.byzantine else ""
        say(f"Starting {member.name} ({member.role}{faulty})")
        directory = self.node_dir(member)
        self._spawn(
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
                if not self._alive(member.slug):
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

    def _wait_for(self, ready: Callable[[], bool], component: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not self._alive(component):
                raise LocalnetError(
                    f"{component} stopped while starting; its log ends with:\n"
                    f"{self.tail(component, 15)}"
                )
            if time.monotonic() > deadline:
                raise LocalnetError(f"{component} did not become ready within {timeout:.0f} s")
            time.sleep(0.2)

    # -- stopping and status ----------------------------------------------------------------

    def _recorded(self, component: str) -> tuple[int, str] | None:
        try:
            pid, started = self._pid_file(component).read_text().split()
            return int(pid), started
        except (OSError, ValueError):
            return None

    def _pid(self, component: str) -> int | None:
        recorded = self._recorded(component)
        return recorded[0] if recorded else None

    def _alive(self, component: str) -> bool:
        """Whether the process `up` started for `component` still runs: same PID and the
        same start time, so a PID the system has since given to another process never counts."""
        recorded = self._recorded(component)
        return recorded is not None and _start_time(recorded[0]) == recorded[1]

    def down(self, say: Say, grace: float = 20.0) -> None:
        """Stop nodes first, then the network map, then the broker, each by its PID."""
        _, members = self._load()
        order = [m.slug for m in members if not m.is_notary]
        order = ["explorer", *order]
        order += [m.slug for m in members if m.is_notary] + ["networkmap", "broker"]
        for component in order:
            pid = self._pid(component)
            if pid is not None and self._alive(component):
                say(f"Stopping {component} (pid {pid})")
                _stop(pid, grace)
            self._pid_file(component).unlink(missing_ok=True)

    def kill(self, component: str) -> None:
        """SIGKILL one component, as a crash would (for tests and drills). For the broker that
        is the RabbitMQ node itself as well as the process keeping it, so `up` can start a new
        one at once (a node left behind would hold its ports and data directory)."""
        pid = self._pid(component)
        if pid is None or not self._alive(component):
            raise LocalnetError(f"{component} is not running")
        if component == "broker":
            for pid_file in (self.home / "broker").glob("*.pid"):
                with contextlib.suppress(OSError, ValueError):
                    node = int(pid_file.read_text().strip())
                    os.killpg(os.getpgid(node), signal.SIGKILL)
                    _await_exit(node, 15.0)
                    pid_file.unlink()  # a zombie not yet reaped would pass for a live node
        os.killpg(pid, signal.SIGKILL)

    def status(self) -> list[Status]:
        ports, members = self._load()
        rows = [
            Status(
                "broker",
                "message broker",
                self._pid("broker"),
                self._alive("broker"),
                f"amqps://127.0.0.1:{ports.broker}",
            ),
            Status(
                "networkmap",
                "doorman + network map",
                self._pid("networkmap"),
                self._alive("networkmap"),
                f"https://127.0.0.1:{ports.network_map}",
            ),
        ]
        if ports.explorer:
            rows.append(
                Status(
                    "explorer",
                    f"web explorer ({EXPLORER_NODE})",
                    self._pid("explorer"),
                    self._alive("explorer"),
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
                    self._pid(member.slug),
                    self._alive(member.slug),
                    f"rpc 127.0.0.1:{member.rpc_port}, metrics :{member.metrics_port}",
                    stopped_on_purpose=member.crashed,
                )
            )
        return rows

    def tail(self, component: str, lines: int = 40) -> str:
        path = self.log_file(component)
        if not path.exists():
            return "(no log yet)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def fault_tolerance(replicas: int) -> int:
    """f for a cluster of `replicas`: the most faulty replicas n = 3f + 1 tolerates."""
    return (replicas - 1) // 3


def _check_mode(replica: str, mode: str) -> str:
    """`mode` in its canonical text, or a LocalnetError naming the replica and the modes."""
    if mode.strip() == CRASH:
        return CRASH
    try:
        from notary.byzantine import Behaviour

        return str(Behaviour.parse(mode))
    except ValueError as exc:
        raise LocalnetError(f"--byzantine {replica}={mode}: {exc}") from None


def parse_byzantine(text: str) -> dict[str, str]:
    """`REPLICA=MODE[,REPLICA=MODE]` (a mode may be `delay=SECONDS`); `none` for no faults."""
    if text.strip().lower() in ("", "none"):
        return {}
    faulty: dict[str, str] = {}
    for item in text.split(","):
        replica, sep, mode = item.strip().partition("=")
        if not sep or not replica or not mode:
            raise LocalnetError(
                f"--byzantine takes REPLICA=MODE[,REPLICA=MODE], e.g. "
                f"notary-service-replica-4-zurich-ch=equivocate; got {item.strip()!r}"
            )
        if replica in faulty:
            raise LocalnetError(f"--byzantine names {replica} twice")
        faulty[replica] = _check_mode(replica, mode)
    return faulty


def plan_byzantine_shape(shape: Shape) -> None:
    """Refuse, before anything is built, more faulty replicas than any cluster tolerates."""
    faulty = shape.byzantine or {}
    if faulty and not shape.allow_unsafe and len(faulty) > fault_tolerance(shape.replicas):
        raise LocalnetError(
            f"{len(faulty)} faulty replicas but {shape.replicas} per cluster tolerate "
            f"{fault_tolerance(shape.replicas)}; use --replicas {3 * len(faulty) + 1} or "
            "--allow-unsafe to see what that breaks"
        )


def plan_byzantine(
    members: list[Member], faulty: dict[str, str], allow_unsafe: bool
) -> dict[str, str]:
    """Replica slug -> mode for `faulty` (replicas by slug or name), checked: every name a
    notary replica, at most f per cluster unless `allow_unsafe`."""
    notaries = [m for m in members if m.is_notary]
    plan: dict[str, str] = {}
    for name, mode in faulty.items():
        wanted = name.strip().lower()
        found = [m for m in notaries if wanted in (m.slug, m.name.lower())]
        if not found:
            known = ", ".join(m.slug for m in notaries)
            raise LocalnetError(f"--byzantine: no notary replica {name!r}; replicas: {known}")
        plan[found[0].slug] = _check_mode(name, mode)
    clusters: dict[str, list[Member]] = {}
    for member in notaries:
        clusters.setdefault(member.service or member.name, []).append(member)
    for service, replicas in clusters.items():
        bad = [m.slug for m in replicas if m.slug in plan]
        f = fault_tolerance(len(replicas))
        if len(bad) > f and not allow_unsafe:
            raise LocalnetError(
                f"{len(bad)} faulty replicas in {service} ({', '.join(bad)}) but its "
                f"{len(replicas)} replicas tolerate {f}; use --allow-unsafe to see what that breaks"
            )
    return plan


def _answers_https(url: str, root_pem: bytes) -> bool:
    """Whether `url` answers 200 over TLS verified against the network root."""
    context = ssl.create_default_context(cadata=root_pem.decode("ascii"))
    try:
        return httpx.get(url, verify=context, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _write_private(path: Path, data: dict[str, object]) -> None:
    """JSON readable by its owner only: it may hold a password (RPC, database URL)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2)


def database_name(member: Member) -> str:
    """The database a node uses when the network's `database_url` has `{node}` in it."""
    return member.slug.replace("-", "_")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot; "" when it does not exist or has
    exited (a zombie waiting to be reaped still has its PID but is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] in ("Z", "X") else fields[19]


def _await_exit(pid: int, timeout: float) -> None:
    """Wait until `pid` has exited (a zombie counts as exited), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while _start_time(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _stop_all(pids: list[int], grace: float) -> None:
    """Stop several process groups at once: SIGTERM to all, then wait for all."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_start_time(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _start_time(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _stop(pid: int, grace: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _start_time(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
