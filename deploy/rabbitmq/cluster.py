"""Joining a running broker to other hosts' brokers as one RabbitMQ cluster (the consortium
option; the member's addresses and cookie are its `ClusterMember` config)."""

from __future__ import annotations

import json

from deploy.rabbitmq.ctl import Rabbitmqctl
from deploy.rabbitmq.errors import BrokerError


def join_cluster(ctl: Rabbitmqctl, seed: str) -> None:
    """Make the (running) node `ctl` reaches a member of the cluster that node `seed` is in."""
    if ctl.config.cluster is None:
        raise BrokerError(f"{ctl.config.node_name} was not started as a cluster member")
    ctl("stop_app")
    ctl("join_cluster", seed, timeout=120)
    ctl("start_app", timeout=120)


def running_members(ctl: Rabbitmqctl) -> list[str]:
    """The cluster's members that are running, as the node `ctl` reaches sees them."""
    out = ctl("cluster_status", "--formatter", "json", quiet=True).stdout
    return sorted(json.loads(out or "{}").get("running_nodes", []))
