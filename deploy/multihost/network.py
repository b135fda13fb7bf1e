"""A production-shaped network on test hosts: the operator and four organisations.

    operator   doorman + network map (operator approval, no dev mode)
    producer   Solar Coop:      broker, node, PostgreSQL, notary replica 1
    consumer   Household:       broker, node, PostgreSQL, notary replica 2
    bank       Community Bank:  broker, node, PostgreSQL, notary replica 3
    market     Market Operator: broker, node, PostgreSQL, notary replica 4

Each organisation joins as DEPLOYMENT.md describes, through the same commands a person runs on
its host: `dlt node init` (with only the doorman URL and the network root certificate), the
operator's `python -m networkmap approve`, `dlt node enrol`, `dlt broker init` and
`dlt broker start`, `dlt node run`. Its notary replica joins the same way (`dlt node init
--notary-replica-of "O=Notary Service, ..."`); once the replicas are enrolled (which publishes
their NodeInfos) the operator forms the cluster from their keys with `python -m networkmap
notary-cluster`, which issues network parameters of a new epoch naming it, and each replica
learns its service from them when it starts. No file but the network root crosses hosts.

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deploy.multihost.clients import DLT, NetworkClients, peers_of
from deploy.multihost.netns import TestHosts
from deploy.multihost.organisations import (
    BROKER_PORT,
    CONSORTIUM_MEMBERS,
    HOSTS,
    MARKET_RULES,
    NETWORK_MAP_PORT,
    NODE_RPC_PORT,
    ORGANISATIONS,
    REPLICA_RPC_PORT,
    SERVICE,
    Joining,
    Organisation,
    node_init_argv,
    notary_cluster_argv,
)
from dlt.identity import X500Name
from networkmap.bootstrap import bootstrap_network

__all__ = ["CONSORTIUM_MEMBERS", "ORGANISATIONS", "SERVICE", "MultihostError", "MultihostNetwork"]

Say = Callable[[str], None]


class MultihostError(RuntimeError):
    """The multi-host network could not be brought up; the message names the part and its log."""


class MultihostNetwork(NetworkClients):
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
        super().__init__(work, TestHosts(HOSTS), consortium=consortium)
        self.broker_services: dict[str, subprocess.Popen[bytes]] = {}
        self.say = say
        self.timeout = timeout
        self.up_seconds = 0.0

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
            self._bootstrap_operator()
            self._start_network_map()
            databases = self._start_postgres()
            # Each organisation joins on its own, as on separate machines: side by side.
            _side_by_side(
                *(
                    call
                    for org in ORGANISATIONS
                    for call in (
                        lambda org=org: self._init_node(org, databases[org.host]["node"]),
                        lambda org=org: self._init_replica(org, databases[org.host]["replica"]),
                    )
                )
            )
            self._approve_all()
            _side_by_side(
                *(
                    lambda org=org, directory=directory: self._enrol(org, directory)
                    for org in ORGANISATIONS
                    for directory in (self.node_dir(org), self.replica_dir(org))
                )
            )
            self._form_notary_cluster()
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

    def _bootstrap_operator(self) -> None:
        """The network's CAs and first parameters, without a notary: the replicas join later."""
        self.say("operator: bootstrapping the network (CAs and network parameters)")
        bootstrap_network(self.operator_home, service_hosts=[self.address("operator")])

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
        address = f"{self.address(org.host)}:{NODE_RPC_PORT}"
        joining = Joining(org.name, self.node_dir(org), self.broker_url(org), database_url, address)
        self._init(org, joining)

    def _init_replica(self, org: Organisation, database_url: str) -> None:
        address = f"{self.address(org.host)}:{REPLICA_RPC_PORT}"
        joining = Joining(
            org.replica_name,
            self.replica_dir(org),
            self.broker_url(org),
            database_url,
            address,
            replica_of=SERVICE,
        )
        self._init(org, joining)

    def _init(self, org: Organisation, joining: Joining) -> None:
        home = self.org_home(org)
        root = home / "network-root.pem"
        shutil.copyfile(self.operator_home / "truststore.pem", root)  # the one file by hand
        self.say(f"{org.host}: dlt node init --name '{joining.name}'")
        argv = node_init_argv(
            joining, doorman_url=self.doorman_url, root=root, broker_declares_inbox=self.consortium
        )
        self._dlt_on(org.host, *argv)

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
        chosen = []
        for joined in (name for org in ORGANISATIONS for name in (org.name, org.replica_name)):
            x500 = X500Name.parse(joined)
            chosen.append(next(t for name, t in tickets.items() if X500Name.parse(name) == x500))
        self.say(f"operator: python -m networkmap approve {' '.join(chosen)}")
        self._networkmap("approve", *chosen)

    def _networkmap(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "networkmap", args[0], "--home", str(self.operator_home)]
        return self._checked(self.hosts["operator"].command([*argv, *args[1:]]), "networkmap")

    def _enrol(self, org: Organisation, directory: Path) -> None:
        """`dlt node enrol`: the certificates, and the NodeInfo published with them."""
        self._dlt_on(org.host, "node", "enrol", "--config", str(directory / "config.json"))

    def _form_notary_cluster(self) -> None:
        argv = notary_cluster_argv()
        self.say(f"operator: python -m networkmap {' '.join(argv[:3])} --replica ... (4)")
        self.say(f"operator: {self._networkmap(*argv).stdout.strip()}")

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
                peers = asyncio.run(peers_of(directory))
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


def _side_by_side(*calls: Callable[[], object]) -> None:
    """Run `calls` in threads at once (each runs a command and waits for it); raises the
    first failure once all have finished."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    for future in futures:
        future.result()


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]
