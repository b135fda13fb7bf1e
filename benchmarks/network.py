"""The network a benchmark runs against: a real local network it starts and stops itself.

`deploy.localnet` builds it (private RabbitMQ over TLS, doorman and network map, notary
replicas and parties, each its own process recorded by PID), with the benchmark CorDapp
installed on every node. With `database="postgresql"` every node keeps its vault in its own
database of a private PostgreSQL cluster the harness starts (never the system service).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from deploy.localnet import Localnet, Member, Shape, database_name
from dlt.testing.postgres import PostgresCluster

Database = Literal["sqlite", "postgresql"]
BENCH_CORDAPP = "cordapp_bench"

ROLE_OF = {
    "market-operator": "party",
    "payment-issuer": "party",
    "producer": "party",
    "consumer": "party",
    "notary": "replica",
}
"""How the harness groups the network's processes when it counts CPU time."""


@dataclass(frozen=True)
class Endpoint:
    """How the load generator reaches one node's RPC (picklable: it crosses processes)."""

    slug: str
    name: str
    role: str
    address: str
    username: str
    password: str
    ca_pem: bytes
    metrics_port: int


@dataclass(frozen=True)
class Component:
    """A process tree to account for: its root PID, and the role its CPU time counts under."""

    name: str
    role: str
    pid: int


@dataclass(frozen=True)
class Topology:
    replicas: int = 4
    notaries: int = 1
    database: Database = "sqlite"
    producers: int = 2
    consumers: int = 2

    def describe(self) -> str:
        notary = f"{self.notaries} x " if self.notaries > 1 else ""
        kind = "single notary" if self.replicas == 1 else f"{self.replicas}-replica BFT notary"
        return (
            f"{notary}{kind}, {self.producers} producers, {self.consumers} consumers, "
            f"vaults in {'PostgreSQL' if self.database == 'postgresql' else 'SQLite'}"
        )


def _quiet(_: str) -> None:
    """Localnet's step-by-step messages; the harness reports start and stop in one line."""


class BenchNetwork:
    """Start with `start()`, stop with `stop()`; `endpoints` and `components` describe it."""

    def __init__(
        self,
        home: Path,
        topology: Topology,
        say: Callable[[str], None],
        postgres: PostgresCluster | None = None,
    ) -> None:
        self.home = home
        self.topology = topology
        self.say = say
        self.localnet = Localnet(home)
        self.postgres = postgres
        self._own_postgres = False

    def start(self, timeout: float = 240.0) -> None:
        topology = self.topology
        database_url = None
        if topology.database == "postgresql":
            if self.postgres is None:
                self.say("Starting a private PostgreSQL cluster for the vaults")
                self.postgres = PostgresCluster.start()
                self._own_postgres = True
            database_url = self.postgres.url("{node}").replace("%7Bnode%7D", "{node}")
        shape = Shape(
            notaries=topology.notaries,
            replicas=topology.replicas,
            producers=topology.producers,
            consumers=topology.consumers,
            cordapps=(BENCH_CORDAPP,),
            database_url=database_url,
        )
        self._shape = shape
        self.say(f"Starting a network: {topology.describe()} (in {self.home})")
        self.localnet.create(shape, _quiet)
        if self.postgres is not None and database_url is not None:
            for member in self.localnet.members:
                self.postgres.create_database(database_name(member))
        self.localnet.up(shape, _quiet, timeout=timeout)
        self.say(f"Network up: {len(self.localnet.members)} nodes see each other")

    def crash(self, slug: str) -> None:
        """SIGKILL one node, as a crash would; `recover` starts it again."""
        self.localnet.kill(slug)

    def recover(self, timeout: float = 240.0) -> None:
        """Start whatever `crash` stopped, and wait until every node sees every other."""
        self.localnet.up(self._shape, _quiet, timeout=timeout)

    def stop(self) -> None:
        if self.localnet.exists:
            self.localnet.down(_quiet)
            self.say(f"Stopped the network in {self.home}")
        if self._own_postgres and self.postgres is not None:
            self.postgres.stop()

    @property
    def members(self) -> list[Member]:
        return self.localnet.members

    def endpoint(self, member: Member) -> Endpoint:
        directory = self.localnet.node_dir(member)
        rpc = json.loads((directory / "rpc.json").read_text())
        return Endpoint(
            slug=member.slug,
            name=member.name,
            role=member.role,
            address=rpc["address"],
            username=rpc["username"],
            password=rpc["password"],
            ca_pem=(directory / rpc["ca"]).read_bytes(),
            metrics_port=member.metrics_port,
        )

    @property
    def endpoints(self) -> list[Endpoint]:
        return [self.endpoint(member) for member in self.members]

    def components(self) -> list[Component]:
        """Every process the network runs, by role: party, replica, broker, network map
        (and database, when the vaults are in a cluster the harness started)."""
        found = []
        for row in self.localnet.status():
            if row.pid is None or not row.running:
                continue
            if row.component == "broker":
                role = "broker"
            elif row.component == "networkmap":
                role = "network map"
            else:
                role = ROLE_OF.get(row.role, "party")
            found.append(Component(row.component, role, row.pid))
        if self.postgres is not None and self.topology.database == "postgresql":
            found.append(postgres_component(self.postgres))
        return found


def postgres_component(cluster: PostgresCluster) -> Component:
    """A private PostgreSQL cluster as one component: its postmaster and every backend."""
    pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    return Component("postgresql", "database", pid)
