"""Where everything of the multi-host network lives: hosts, homes, node directories, URLs."""

from __future__ import annotations

from pathlib import Path

from deploy.multihost.netns import TestHosts
from deploy.multihost.organisations import (
    BROKER_PORT,
    CONSORTIUM_HOME,
    CONSORTIUM_MEMBERS,
    NETWORK_MAP_PORT,
    ORGANISATIONS,
    Organisation,
)


class NetworkLayout:
    """The paths and addresses of the network on `hosts`, one home per host under `work`."""

    def __init__(self, work: Path, hosts: TestHosts, *, consortium: bool = False) -> None:
        self.work = work.resolve()
        self.hosts = hosts
        self.consortium = consortium

    @property
    def operator_home(self) -> Path:
        return self.work / "operator"

    def org_home(self, org: Organisation | str) -> Path:
        host = org if isinstance(org, str) else org.host
        return self.work / host

    def node_dir(self, org: Organisation) -> Path:
        return self.org_home(org) / "nodes" / org.slug

    def replica_dir(self, org: Organisation) -> Path:
        return self.org_home(org) / "nodes" / org.replica_slug

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
