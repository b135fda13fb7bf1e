"""Who runs what on the test hosts, and the commands with which each of them joins.

Every organisation runs a node and one replica of the BFT notary. Both join the same way, with
`dlt node init` given only the doorman's URL and the network root; the replica's init names the
service it is a replica of, and the operator forms the cluster from the admitted replicas
(`python -m networkmap notary-cluster`), so no replica directory is handed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlt.identity import X500Name
from networkmap.bootstrap import node_slug

NETWORK_MAP_PORT = 10000
BROKER_PORT = 5671
NODE_RPC_PORT = 10003
REPLICA_RPC_PORT = 10004
SERVICE = "O=Notary Service, L=Zurich, C=CH"
MARKET_RULES = "energy.market-rules"


@dataclass(frozen=True)
class Organisation:
    host: str
    name: str
    slug: str
    replica: int
    """The number of the notary replica this organisation runs."""

    @property
    def x500(self) -> X500Name:
        return X500Name.parse(self.name)

    @property
    def replica_name(self) -> str:
        return f"O=Notary Service Replica {self.replica}, L=Zurich, C=CH"

    @property
    def replica_slug(self) -> str:
        return node_slug(X500Name.parse(self.replica_name))


CONSORTIUM_MEMBERS = ("producer", "consumer", "bank")
"""With the consortium option: the hosts that run a member of the one RabbitMQ cluster."""
CONSORTIUM_HOME = {"producer": "producer", "consumer": "consumer", "bank": "bank", "market": "bank"}
"""...and the member each organisation's nodes connect to."""

ORGANISATIONS = (
    Organisation("producer", "O=Solar Coop, L=Leeds, C=GB", "solar-coop", 1),
    Organisation("consumer", "O=Household, L=York, C=GB", "household", 2),
    Organisation("bank", "O=Community Bank, L=London, C=GB", "community-bank", 3),
    Organisation("market", "O=Market Operator, L=London, C=GB", "market-operator", 4),
)
HOSTS = ("operator", *(org.host for org in ORGANISATIONS))


@dataclass(frozen=True)
class Joining:
    """Where one node process of an organisation will run, as `dlt node init` takes it."""

    name: str
    directory: Path
    broker_url: str
    database_url: str
    rpc_address: str
    replica_of: str | None = None


def node_init_argv(
    joining: Joining, *, doorman_url: str, root: Path, broker_declares_inbox: bool
) -> list[str]:
    """`dlt node init ...` (without the `dlt`) for a node or, with `replica_of`, a replica."""
    argv = ["node", "init", "--doorman", doorman_url, "--network-root", str(root)]
    argv += ["--name", joining.name, "--directory", str(joining.directory)]
    argv += ["--broker", joining.broker_url, "--database", joining.database_url]
    argv += ["--rpc-address", joining.rpc_address]
    if broker_declares_inbox:
        argv.append("--broker-declares-inbox")
    if joining.replica_of is not None:
        argv += ["--notary-replica-of", joining.replica_of]
    return argv


def notary_cluster_argv(organisations: tuple[Organisation, ...] = ORGANISATIONS) -> list[str]:
    """The operator's `python -m networkmap notary-cluster` (without --home): one replica per
    organisation, n = 4, so any one organisation may fail."""
    argv = ["notary-cluster", "--service", SERVICE]
    for org in organisations:
        argv += ["--replica", org.replica_name]
    return argv
