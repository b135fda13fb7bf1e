"""A private RabbitMQ instance for a local network or a test session: TLS only, EXTERNAL only.

`PrivateBroker` runs its own Erlang node, with everything under one directory (`home`): its
configuration, Erlang cookie, database, logs and PID file. It never reads /etc/rabbitmq, never
uses the default cookie, and runs its own epmd on a private port, so it cannot disturb (or be
disturbed by) a system RabbitMQ on the same machine. The AMQP listener accepts TLS only, on
127.0.0.1 by default (an organisation's broker listens on its host's address: see
deploy/org_broker.py), requires a client certificate from the network's CA (at most the node CA
and the doorman CA between it and the root), and logs the client in as the certificate's whole
subject (SASL EXTERNAL, `ssl_cert_login_from = distinguished_name`); there is no password login
and no management plugin. Erlang/OTP applies the node CA's name constraints when it validates the
client chain, so a node can log in only as the name the doorman approved (tests/broker proves it).

Provisioning gives each node a password-less user named `broker_user_name(legal name)`, allowed to
declare and read only its own inbox queue and to publish through the default exchange (which is
how it reaches every other node's inbox). See `node_permissions`.

The modules: install (finding RabbitMQ), ports, permissions (names and what each user may do),
config (a node's ports, paths, rabbitmq.conf and environment), ctl (running rabbitmqctl),
process (starting and stopping the node), admin (users, inboxes, revocation, inspection),
cluster (joining other hosts' brokers) and broker (`PrivateBroker`, which composes them).
"""

from __future__ import annotations

from deploy.rabbitmq.broker import PrivateBroker
from deploy.rabbitmq.config import DEFAULT_VHOST, ClusterMember
from deploy.rabbitmq.errors import BrokerError, RabbitMQNotInstalledError
from deploy.rabbitmq.install import ensure_rabbitmq_installed, find_rabbitmq_scripts
from deploy.rabbitmq.permissions import Permissions, node_permissions, peer_permissions
from deploy.rabbitmq.ports import free_port

__all__ = [
    "DEFAULT_VHOST",
    "BrokerError",
    "ClusterMember",
    "Permissions",
    "PrivateBroker",
    "RabbitMQNotInstalledError",
    "ensure_rabbitmq_installed",
    "find_rabbitmq_scripts",
    "free_port",
    "node_permissions",
    "peer_permissions",
]
