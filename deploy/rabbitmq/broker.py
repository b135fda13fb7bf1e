"""`PrivateBroker`: one RabbitMQ node of our own, its config together with the parts that run
it (process), administer it (admin) and cluster it (cluster), behind one object."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from deploy.rabbitmq.admin import BrokerAdmin
from deploy.rabbitmq.cluster import join_cluster, running_members
from deploy.rabbitmq.config import BrokerConfig
from deploy.rabbitmq.ctl import Rabbitmqctl
from deploy.rabbitmq.permissions import Permissions
from deploy.rabbitmq.process import BrokerProcess


class PrivateBroker(BrokerConfig):
    """One RabbitMQ node of our own, configured for mutual TLS and EXTERNAL auth only."""

    @cached_property
    def _ctl(self) -> Rabbitmqctl:
        return Rabbitmqctl(self)

    @cached_property
    def _process(self) -> BrokerProcess:
        return BrokerProcess(self, self._ctl)

    @cached_property
    def _admin(self) -> BrokerAdmin:
        return BrokerAdmin(self._ctl)

    # -- lifecycle ------------------------------------------------------------------------

    def is_running(self) -> bool:
        """Whether the broker process this object started is still alive."""
        return self._process.is_running()

    def start(self) -> None:
        """Start the node and return once it accepts TLS connections; provisioning may follow."""
        self._process.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop exactly the processes start() spawned. Safe to call more than once."""
        self._process.stop(timeout)

    def __enter__(self) -> PrivateBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines)

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run rabbitmqctl against this node and return its output; raises BrokerError."""
        return self._ctl(*args, timeout=timeout).stdout

    # -- provisioning ---------------------------------------------------------------------

    def provision(
        self, nodes: Mapping[str, str], *, declare_inboxes: bool = True, quorum: bool = False
    ) -> None:
        """One password-less user per node, each allowed only its own inbox (see admin)."""
        self._admin.provision(nodes, declare_inboxes=declare_inboxes, quorum=quorum)

    def provision_peers(self, users: list[str]) -> None:
        """One password-less user per node of other organisations, allowed only to publish."""
        self._admin.provision_peers(users)

    def add_node_user(self, user: str, inbox_queue: str, *, declare_inbox: bool = True) -> None:
        """One node's user and permissions (see `node_permissions`), and its inbox declared, so
        messages sent before the node first connects are kept."""
        self._admin.provision({user: inbox_queue}, declare_inboxes=declare_inbox)

    def declare_inbox(self, queue: str) -> None:
        """Declare a durable inbox queue (idempotent; the arguments AmqpTransport declares)."""
        self._admin.declare_inbox(queue)

    def delete_node_user(self, user: str) -> None:
        self._admin.delete_node_user(user)

    def revoke_user(self, user: str, reason: str) -> None:
        """Delete a revoked node's user and close its connections; harmless to repeat."""
        self._admin.revoke_user(user, reason)

    # -- clustering -----------------------------------------------------------------------

    def join_cluster(self, seed: str) -> None:
        """Make this (running) node a member of the cluster that node `seed` belongs to."""
        join_cluster(self._ctl, seed)

    def running_members(self) -> list[str]:
        """The cluster's members that are running, as this node sees them."""
        return running_members(self._ctl)

    # -- inspection -----------------------------------------------------------------------

    def connected_users(self) -> list[str]:
        """The user of every open client connection (one entry per connection)."""
        return self._admin.connected_users()

    def list_permissions(self) -> dict[str, Permissions]:
        """User -> permissions on this broker's vhost."""
        return self._admin.list_permissions()

    def list_users(self) -> list[str]:
        return self._admin.list_users()

    def queue_depths(self) -> dict[str, int]:
        """Queue -> messages (ready + unacknowledged) on this broker's vhost."""
        return self._admin.queue_depths()

    def queue_types(self) -> dict[str, str]:
        """Queue -> type (classic, quorum) on this broker's vhost."""
        return self._admin.queue_types()
