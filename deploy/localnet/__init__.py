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

The modules: shape (Shape, Member, Ports, Status), files (localnet.json and each node's files),
byzantine (faulty replicas), processes (spawning, PIDs, stopping), brokers (the broker service
and its users) and network (`Localnet`, which composes them).
"""

from __future__ import annotations

from deploy.localnet.byzantine import fault_tolerance, parse_byzantine
from deploy.localnet.errors import LocalnetError
from deploy.localnet.files import BYZANTINE_SERVICE, CORDAPPS
from deploy.localnet.network import Localnet, resolve_home
from deploy.localnet.shape import (
    EXPLORER_NODE,
    METERS_INSTALLED_BEFORE,
    RPC_USER,
    Member,
    Shape,
    Status,
    database_name,
)

__all__ = [
    "BYZANTINE_SERVICE",
    "CORDAPPS",
    "EXPLORER_NODE",
    "METERS_INSTALLED_BEFORE",
    "RPC_USER",
    "Localnet",
    "LocalnetError",
    "Member",
    "Shape",
    "Status",
    "database_name",
    "fault_tolerance",
    "parse_byzantine",
    "resolve_home",
]
