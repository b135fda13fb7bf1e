"""A production-shaped network on test hosts: the operator and four organisations.

    operator   doorman + network map (operator approval, no dev mode)
    producer   Solar Coop:      broker, node, PostgreSQL, notary replica 1
    consumer   Household:       broker, node, PostgreSQL, notary replica 2
    bank       Community Bank:  broker, node, PostgreSQL, notary replica 3
    market     Market Operator: broker, node, PostgreSQL, notary replica 4

Each organisation joins as DEPLOYMENT.md describes, through the same commands a person runs on
its host: `dlt node init` (with only the doorman URL and the network root certificate), the
operator's `python -m networkmap approve`, `dlt node enrol`, `dlt broker init` and
`dlt broker start`, `dlt node run`. The notary replicas' identities are made by the operator
with the network parameters (the parameters name the replicas' keys), so each replica's
directory is handed to the organisation that runs it; that is the one exception.

Every process runs inside its host's namespace (`TestHosts.spawn`), every address is on the
test subnet or loopback, and `down()` stops all of it and removes the hosts.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.multihost.netns import TestHosts
from dlt.identity import X500Name
from dlt.rpc.client import RpcClient, RpcError
from dlt.rpc.users import hash_password
from networkmap.bootstrap import bootstrap_network

DLT = str(Path(sys.executable).with_name("dlt"))
NETWORK_MAP_PORT = 10000
BROKER_PORT = 5671
NODE_RPC_PORT = 10003
REPLICA_RPC_PORT = 10004
SERVICE = "O=Notary Service, L=Zurich, C=CH"
MARKET_RULES = "energy.market-rules"
CORDAPPS = ("cordapp_energy",)

Say = Callable[[str], None]


class MultihostError(RuntimeError):
    """The multi-host network could not be brought up; the message names the part and its log."""


@dataclass(frozen=True)
class Organisation:
    host: str
    name: str
    slug: str

    @property
    def x500(self) -> X500Name:
        return X500Name.parse(self.name)


CONSORTIUM_MEMBERS = ("producer", "consumer", "bank")
"""With the consortium option: the hosts that run a member of the one RabbitMQ cluster."""
CONSORTIUM_HOME = {"producer": "producer", "consumer": "consumer", "bank": "bank", "market": "bank"}
"""...and the member each organisation's nodes connect to."""

ORGANISATIONS = (
    Organisation("producer", "O=Solar Coop, L=Leeds, C=GB", "solar-coop"),
    Organisation("consumer", "O=Household, L=York, C=GB", "household"),
    Organisation("bank", "O=Community Bank, L=London, C=GB", "community-bank"),
    Organisation("market", "O=Market Operator, L=London, C=GB", "market-operator"),
)
HOSTS = ("operator", *(org.host for org in ORGANISATIONS))


class MultihostNetwork:
    """The test hosts and everything running on them; `up()` then `down()` (always)."""

    def __init__(
        self,
        work: Path,
        *,
        say: Say = lambda _: None,
        timeout: float = 240.0,
        consortium: bool = False,
    ) -> None:
        """With `consortium` the organisations share one three-member RabbitMQ cluster with
        quorum inboxes instead of running a broker each."""
        self.work = work.resolve()
        self.consortium = consortium
        self.broker_services: dict[str, subprocess.Popen[bytes]] = {}
        self.say = say
        self.timeout = timeout
        self.hosts = TestHosts(HOSTS)
        self.replica_slugs: dict[str, str] = {}
        self.up_seconds = 0.0

    # -- layout ---------------------------------------------------------------------------

    @property
    def operator_home(self) -> Path:
        return self.work / "operator"

    def org_home(self, org: Organisation | str) -> Path:
        host = org if isinstance(org, str) else org.host
        return self.work / host

    def node_dir(self, org: Organisation) -> Path:
        return self.org_home(org) / "nodes" / org.slug

    def replica_dir(self, org: Organisation) -> Path:
        return self.org_home(org) / "nodes" / self.replica_slugs[org.host]

    def address(self, host: str) -> str:
        return self.hosts[host].address

    @property
    def doorman_url(self) -> str:
        return f"https://{self.address('operator')}:{NETWORK_MAP_PORT}"

    def broker_host(self, org: Organisation) -> str:
        """The host whose broker `org`'s nodes use."""
        return CONSORTIUM_HOME[org.host] if self.consortium else org.host

    @property
    def broker_hosts(self) -> tuple[str, ...]:
        return CONSORTIUM_MEMBERS if self.consortium else tuple(o.host for o in ORGANISATIONS)

    def broker_url(self, org: Organisation) -> str:
        return f"amqps://{self.address(self.broker_host(org))}:{BROKER_PORT}/%2F"

    def broker_home(self, host: str) -> Path:
        return self.org_home(host) / "broker"

    @staticmethod
    def organisation(host: str) -> Organisation:
        for org in ORGANISATIONS:
            if host in (org.host, org.slug, org.name):
                return org
        raise KeyError(f"no organisation {host!r}")

    # -- bringing it up -------------------------------------------------------------------

    def up(self) -> None:
        began = time.monotonic()
        self.work.mkdir(parents=True, exist_ok=True)
        self.hosts.open()
        try:
            self.say(
                "test hosts: "
                + ", ".join(f"{h.name} {h.address}" for h in self.hosts.hosts.values())
            )
            replicas = self._bootstrap_operator()
            self._start_network_map()
            databases = self._start_postgres()
            for org in ORGANISATIONS:
                self._init_node(org, databases[org.host]["node"])
            self._approve_all()
            for org in ORGANISATIONS:
                self._enrol(org)
                self._place_replica(org, replicas[org.host], databases[org.host]["replica"])
            for host in self.broker_hosts:
                self._init_broker(host)
            for host in self.broker_hosts:
                self.start_broker(host)
            self._wait_for_files([self.broker_home(host) / "ready" for host in self.broker_hosts])
            for org in ORGANISATIONS:
                self._start_node(org, self.replica_dir(org), "replica")
                self._start_node(org, self.node_dir(org), "node")
            self._await_everyone()
        except BaseException:
            self.down()
            raise
        self.up_seconds = time.monotonic() - began
        self.say(f"the network is up in {self.up_seconds:.0f} s")

    def _bootstrap_operator(self) -> dict[str, tuple[str, dict[str, object]]]:
        """The network's CAs and parameters with a four-replica notary cluster; returns, per
        organisation host, the replica directory slug and its notary section."""
        self.say("operator: bootstrapping the network (CAs, parameters, notary cluster)")
        result = bootstrap_network(
            self.operator_home,
            notary_clusters=[(X500Name.parse(SERVICE), False, len(ORGANISATIONS))],
            service_hosts=[self.address("operator")],
        )
        (info,) = result.parameters.notaries
        assert info.replicas is not None
        notary = {
            "validating": False,
            "service": {"name": SERVICE, "owning_key": info.identity.owning_key.to_string()},
        }
        replicas = sorted(
            (node for node in result.nodes if node.notary is not None), key=lambda n: str(n.name)
        )
        return {
            org.host: (replica.slug, notary)
            for org, replica in zip(ORGANISATIONS, replicas, strict=True)
        }

    def _start_network_map(self) -> None:
        market = self.organisation("market")
        self.say(f"operator: doorman and network map on {self.doorman_url}")
        self.hosts.spawn(
            "operator",
            [
                sys.executable,
                "-m",
                "networkmap",
                "serve",
                "--home",
                str(self.operator_home),
                "--address",
                f"{self.address('operator')}:{NETWORK_MAP_PORT}",
                "--trust",
                f"{MARKET_RULES}={market.name}",
            ],
            self.operator_home / "networkmap.log",
        )
        self._wait_for(
            lambda: (
                self.hosts.reachable("operator", self.address("operator"))
                and _answers(self.hosts, "operator", self.address("operator"), NETWORK_MAP_PORT)
            ),
            "the network map",
            self.operator_home / "networkmap.log",
        )

    def _start_postgres(self) -> dict[str, dict[str, str]]:
        ready = {}
        for org in ORGANISATIONS:
            home = self.org_home(org)
            home.mkdir(parents=True, exist_ok=True)
            ready[org.host] = home / "postgres.json"
            self.hosts.spawn(
                org.host,
                [
                    sys.executable,
                    "-m",
                    "deploy.multihost.postgres_service",
                    "--database",
                    "node",
                    "--database",
                    "replica",
                    "--ready",
                    str(ready[org.host]),
                ],
                home / "postgres.log",
                cwd=_repo(),
            )
        self.say("organisations: starting PostgreSQL on each host")
        self._wait_for_files(list(ready.values()))
        return {host: json.loads(path.read_text()) for host, path in ready.items()}

    def _init_node(self, org: Organisation, database_url: str) -> None:
        home = self.org_home(org)
        root = home / "network-root.pem"
        shutil.copyfile(self.operator_home / "truststore.pem", root)  # the one file by hand
        self.say(f"{org.host}: dlt node init --name '{org.name}'")
        self._dlt_on(
            org.host,
            "node",
            "init",
            "--doorman",
            self.doorman_url,
            "--network-root",
            str(root),
            "--name",
            org.name,
            "--directory",
            str(self.node_dir(org)),
            "--broker",
            self.broker_url(org),
            "--database",
            database_url,
            "--rpc-address",
            f"{self.address(org.host)}:{NODE_RPC_PORT}",
            *(["--broker-declares-inbox"] if self.consortium else []),
        )

    def pending_tickets(self) -> dict[str, str]:
        """Name -> ticket of the registrations awaiting the operator."""
        out = self._networkmap("pending").stdout
        tickets = {}
        for line in out.splitlines()[1:]:
            ticket, _date, _time, name = line.split(maxsplit=3)
            tickets[name.strip()] = ticket
        return tickets

    def _approve_all(self) -> None:
        tickets = self.pending_tickets()
        for org in ORGANISATIONS:
            ticket = next(t for name, t in tickets.items() if X500Name.parse(name) == org.x500)
            self.say(f"operator: python -m networkmap approve {ticket} ({org.name})")
            self._networkmap("approve", ticket)

    def _networkmap(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "networkmap", args[0], "--home", str(self.operator_home)]
        return self._checked(self.hosts["operator"].command([*argv, *args[1:]]), "networkmap")

    def _enrol(self, org: Organisation) -> None:
        self._dlt_on(org.host, "node", "enrol", "--config", str(self.node_dir(org) / "config.json"))

    def _place_replica(
        self, org: Organisation, replica: tuple[str, dict[str, object]], database_url: str
    ) -> None:
        """Hand the replica directory the operator made to the organisation that runs it."""
        slug, notary = replica
        self.replica_slugs[org.host] = slug
        target = self.org_home(org) / "nodes" / slug
        shutil.copytree(self.operator_home / "nodes" / slug, target)
        password = secrets.token_urlsafe(18)
        address = f"{self.address(org.host)}:{REPLICA_RPC_PORT}"
        name = json.loads((target / "node.json").read_text())["name"]
        config = {
            "name": name,
            "directory": ".",
            "database_url": database_url,
            "messaging": {
                "broker_url": self.broker_url(org),
                "declare_inbox": not self.consortium,
            },
            "rpc": {
                "address": address,
                "users": [
                    {
                        "username": "operator",
                        "password_hash": hash_password(password),
                        "permissions": ["ALL"],
                    }
                ],
            },
            "network_map": {"url": self.doorman_url, "poll_seconds": 1.0},
            "notary": notary,
            "cordapps": list(CORDAPPS),
            "dev_mode": False,
        }
        rpc = {
            "name": name,
            "address": address,
            "ca": "truststore.pem",
            "username": "operator",
            "password": password,
        }
        for file, content in (("config.json", config), ("rpc.json", rpc)):
            descriptor = os.open(target / file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(content, handle, indent=2)

    def _hosted(self, host: str) -> list[Path]:
        """config.json of every node that uses `host`'s broker."""
        orgs = [org for org in ORGANISATIONS if self.broker_host(org) == host]
        return [
            directory / "config.json"
            for org in orgs
            for directory in (self.node_dir(org), self.replica_dir(org))
        ]

    def _init_broker(self, host: str) -> None:
        argv = ["broker", "init", "--home", str(self.broker_home(host))]
        argv += ["--listen", f"{self.address(host)}:{BROKER_PORT}"]
        for config in self._hosted(host):
            argv += ["--node", str(config)]
        if self.consortium:
            cookie = self.work / "consortium.cookie"
            if not cookie.exists():
                cookie.write_text(secrets.token_hex(20).upper())
                cookie.chmod(0o600)
            argv += ["--consortium-cookie", str(cookie)]
            argv += ["--cluster-size", str(len(CONSORTIUM_MEMBERS))]
            seed = CONSORTIUM_MEMBERS[0]
            if host != seed:
                argv += ["--join", f"dlt-consortium@{self.address(seed)}"]
        self._dlt_on(host, *argv)

    def start_broker(self, host: str) -> None:
        """Start (or start again) `host`'s `dlt broker start`."""
        self.say(f"{host}: dlt broker start (RabbitMQ on {self.address(host)}:{BROKER_PORT})")
        home = self.broker_home(host)
        self.broker_services[host] = self.hosts.spawn(
            host, [DLT, "broker", "start", "--home", str(home)], home / "service.log"
        )

    def kill_broker_node(self, host: str) -> int:
        """SIGKILL `host`'s RabbitMQ node (the Erlang VM), as a crash would; returns its PID."""
        pid_files = list((self.broker_home(host) / "rabbitmq").glob("*.pid"))
        if len(pid_files) != 1:
            raise MultihostError(f"no single RabbitMQ PID file on {host}: {pid_files}")
        pid = int(pid_files[0].read_text().strip())
        os.kill(pid, signal.SIGKILL)
        return pid

    def restart_broker(self, host: str) -> None:
        """Stop `host`'s broker service (after its node was killed) and start it again."""
        service = self.broker_services[host]
        service.terminate()
        service.wait(timeout=120)
        self.hosts.forget(service)
        (self.broker_home(host) / "ready").unlink(missing_ok=True)
        self.start_broker(host)
        self._wait_for_files([self.broker_home(host) / "ready"])

    def _start_node(self, org: Organisation, directory: Path, what: str) -> None:
        self.say(f"{org.host}: dlt node run ({what})")
        self.hosts.spawn(
            org.host,
            [DLT, "node", "run", "--config", str(directory / "config.json")],
            directory / "node.log",
            cwd=directory,
        )

    def _await_everyone(self) -> None:
        """Every node answers RPC and sees all eight nodes; every broker knows every peer."""
        directories = [
            d for org in ORGANISATIONS for d in (self.node_dir(org), self.replica_dir(org))
        ]
        names = {json.loads((d / "rpc.json").read_text())["name"] for d in directories}
        everyone = {str(X500Name.parse(name)) for name in names}

        def ready() -> bool:
            for directory in directories:
                peers = asyncio.run(_peers(directory))
                if peers is None or not everyone <= peers:
                    return False
            for host in self.broker_hosts:
                peers_file = self.broker_home(host) / "peers.json"
                if not peers_file.exists():
                    return False
                known = len(json.loads(peers_file.read_text())) + len(self._hosted(host))
                if known < len(everyone):
                    return False
            return True

        self.say("waiting until every node sees every other and every broker knows every peer")
        self._wait_for(ready, "the nodes", self.work)

    # -- using it -------------------------------------------------------------------------

    def dlt(
        self, host: str, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """The `dlt` CLI run from the driver against `host`'s organisation home."""
        env = {**os.environ, "DLT_HOME": str(self.org_home(host))}
        result = subprocess.run(
            [DLT, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dlt {' '.join(args)} on {host} failed ({result.returncode}):\n"
                f"{result.stderr}{result.stdout}"
            )
        return result

    def flow(self, host: str, name: str, *, timeout: float = 180, **arguments: object) -> dict:
        """Start flow `name` on `host`'s node and wait for its result."""
        org = self.organisation(host)
        pairs = [f"{key}={value}" for key, value in arguments.items()]
        result = self.dlt(
            host, "flow", "start", "--node", org.slug, "--json", name, *pairs, timeout=timeout
        )
        return json.loads(result.stdout)

    def states(self, host: str, state_type: str, status: str = "unconsumed") -> list[dict]:
        org = self.organisation(host)
        result = self.dlt(
            host,
            *("vault", "query", "--node", org.slug, "--type", state_type),
            *("--status", status, "--page-size", "1000", "--json"),
        )
        return [entry["state"]["value"]["data"] for entry in json.loads(result.stdout)["states"]]

    def rpc(self, host: str, *, replica: bool = False) -> RpcClient:
        """An RPC client (use `async with`) for `host`'s node, or its notary replica."""
        org = self.organisation(host)
        directory = self.replica_dir(org) if replica else self.node_dir(org)
        rpc = json.loads((directory / "rpc.json").read_text())
        return RpcClient(
            rpc["address"],
            rpc["username"],
            rpc["password"],
            (directory / rpc["ca"]).read_bytes(),
            node_name=X500Name.parse(rpc["name"]),
            timeout=60.0,
        )

    def timed_flow(self, host: str, name: str, **arguments: object) -> tuple[object, float]:
        """Run a flow over RPC from the driver: its result and its wall time in seconds
        (from the start request to the result, without any CLI start-up)."""

        async def run() -> tuple[object, float]:
            async with self.rpc(host) as client:
                began = time.perf_counter()
                result = await client.run_flow(name, arguments)
                return result, time.perf_counter() - began

        return asyncio.run(run())

    def down(self) -> None:
        self.hosts.close()

    # -- helpers --------------------------------------------------------------------------

    def _dlt_on(self, host: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._checked(self.hosts[host].command([DLT, *args]), f"dlt {args[0]} {args[1]}")

    def _checked(self, argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=self.timeout, cwd=_repo()
        )
        if result.returncode != 0:
            raise MultihostError(f"{what} failed: {(result.stderr or result.stdout).strip()}")
        return result

    def _wait_for_files(self, files: list[Path]) -> None:
        self._wait_for(
            lambda: all(f.exists() for f in files), ", ".join(str(f) for f in files), self.work
        )

    def _wait_for(self, ready: Callable[[], bool], what: str, logs: Path) -> None:
        deadline = time.monotonic() + self.timeout
        while not ready():
            dead = [p for p in self.hosts.processes() if p.poll() is not None]
            if dead:
                raise MultihostError(
                    f"waiting for {what}: {' '.join(dead[0].args[4:6])} exited with "
                    f"{dead[0].returncode}; see the logs under {logs}"
                )
            if time.monotonic() > deadline:
                raise MultihostError(f"{what} not ready within {self.timeout:.0f} s; see {logs}")
            time.sleep(0.5)


async def _peers(directory: Path) -> set[str] | None:
    rpc = json.loads((directory / "rpc.json").read_text())
    ca = (directory / rpc["ca"]).read_bytes()
    try:
        async with RpcClient(
            rpc["address"],
            rpc["username"],
            rpc["password"],
            ca,
            node_name=X500Name.parse(rpc["name"]),
        ) as client:
            peers = (await client.network_map()).peers
    except RpcError:
        return None
    return {str(X500Name.parse(peer.name)) for peer in peers}


def _answers(hosts: TestHosts, source: str, address: str, port: int) -> bool:
    script = (
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    result = hosts.run(source, [sys.executable, "-c", script, address, str(port)], check=False)
    return result.returncode == 0


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]
