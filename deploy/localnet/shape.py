"""What a local network is made of: the `Shape` asked for, the `Member`s and `Ports` it was
built with (recorded in localnet.json), the `Status` rows it reports, and the names they use."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, Field

from dlt.identity import X500Name

RPC_USER = "operator"
EXPLORER_NODE = "market-operator"
"""The node whose explorer `up` starts: the one that sees the whole market."""
CRASH = "crash"
"""The Byzantine mode that is a process not running, rather than one behaving badly."""
METERS_INSTALLED_BEFORE = timedelta(days=366)
"""A local network's meters are certified from a year back, so the community's recorded days
(the simulator replays June) can be attested on it."""

Say = Callable[[str], None]
"""Where progress lines go (the CLI prints them; tests and scenarios may drop them)."""


class Shape(BaseModel):
    """How many of each party the network has."""

    notaries: int = Field(default=1, ge=1, le=9)
    replicas: int = Field(default=1, ge=1, le=10)
    """Replicas per notary service: 1 for a single node, 3f+1 to tolerate f faulty ones."""
    validating: bool = False
    producers: int = Field(default=2, ge=1, le=100)
    consumers: int = Field(default=2, ge=1, le=100)
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


def service_names(shape: Shape) -> list[str]:
    if shape.notaries == 1:
        return ["O=Notary Service, L=Zurich, C=CH"]
    return [f"O=Notary Service {i}, L=Zurich, C=CH" for i in range(1, shape.notaries + 1)]


def parties_for(shape: Shape) -> list[tuple[str, str]]:
    return [
        ("O=Market Operator, L=London, C=GB", "market-operator"),
        ("O=Community Bank, L=London, C=GB", "payment-issuer"),
        *[(f"O=Producer {i}, L=Leeds, C=GB", "producer") for i in range(1, shape.producers + 1)],
        *[(f"O=Consumer {i}, L=York, C=GB", "consumer") for i in range(1, shape.consumers + 1)],
    ]


def database_name(member: Member) -> str:
    """The database a node uses when the network's `database_url` has `{node}` in it."""
    return member.slug.replace("-", "_")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
