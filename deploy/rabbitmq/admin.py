"""Provisioning and inspecting a running broker through rabbitmqctl: node and peer users with
their permissions, inboxes, revocation, and what the broker holds (users, queues, connections).

Users are created in one definitions import, each password-less (an empty hash no password can
match), so only EXTERNAL, by client certificate, can log them in.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping

from deploy.rabbitmq.ctl import Rabbitmqctl
from deploy.rabbitmq.errors import BrokerError
from deploy.rabbitmq.permissions import (
    Permissions,
    check_name,
    check_user,
    node_permissions,
    peer_permissions,
)

IMPORT_ATTEMPTS = 5


class BrokerAdmin:
    """The users, permissions and queues of the node `ctl` reaches, on its config's vhost."""

    def __init__(self, ctl: Rabbitmqctl) -> None:
        self._ctl = ctl

    @property
    def vhost(self) -> str:
        return self._ctl.config.vhost

    # -- provisioning ---------------------------------------------------------------------

    def provision(
        self, nodes: Mapping[str, str], *, declare_inboxes: bool = True, quorum: bool = False
    ) -> None:
        """Create (or update) one password-less user per node, each allowed only its own inbox,
        in one definitions import; `nodes` maps `broker_user_name(legal name)` -> inbox queue."""
        users, permissions, queues = [], [], []
        for user, queue in nodes.items():
            check_user(user)
            rules = node_permissions(queue)
            users.append(
                {
                    "name": user,
                    # Empty hash: no password can ever match, so only EXTERNAL logs it in.
                    "password_hash": "",
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": [],
                }
            )
            permissions.append(
                {
                    "user": user,
                    "vhost": self.vhost,
                    "configure": rules.configure,
                    "write": rules.write,
                    "read": rules.read,
                }
            )
            if declare_inboxes:
                queues.append(queue_definition(queue, self.vhost, quorum=quorum))
        self._import({"users": users, "permissions": permissions, "queues": queues})

    def provision_peers(self, users: list[str]) -> None:
        """Create (or update) one password-less user per node of other organisations, allowed
        only to publish (see `peer_permissions`), in one definitions import."""
        rules = peer_permissions()
        self._import(
            {
                "users": [
                    {
                        "name": check_user(user),
                        "password_hash": "",
                        "hashing_algorithm": "rabbit_password_hashing_sha256",
                        "tags": [],
                    }
                    for user in users
                ],
                "permissions": [
                    {
                        "user": user,
                        "vhost": self.vhost,
                        "configure": rules.configure,
                        "write": rules.write,
                        "read": rules.read,
                    }
                    for user in users
                ],
            }
        )

    def declare_inbox(self, queue: str) -> None:
        """Declare a durable inbox queue (idempotent; the arguments AmqpTransport declares)."""
        self._import({"queues": [queue_definition(check_name("queue name", queue), self.vhost)]})

    def delete_node_user(self, user: str) -> None:
        self._ctl("delete_user", check_user(user))

    def revoke_user(self, user: str, reason: str) -> None:
        """Shut a revoked node out: delete its user, so EXTERNAL login finds no one to log in
        as, then close the connections it has open, which deleting the user leaves alone.
        Running it again is harmless."""
        check_user(user)
        if user in self.list_users():
            self._ctl("delete_user", user)
        self._ctl("close_all_user_connections", user, f"revoked: {reason}")

    def _import(self, definitions: Mapping[str, object]) -> None:
        """Import `definitions`. Members of one cluster provisioning the same users at once
        race (the loser's import fails with `user_already_exists`); an import is idempotent,
        so the loser imports again and finds them there."""
        document = {"vhosts": [{"name": self.vhost}], **definitions}
        path = self._ctl.config.home / f"definitions-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(document))
        try:
            for attempt in range(IMPORT_ATTEMPTS):
                try:
                    self._ctl("import_definitions", str(path))
                    return
                except BrokerError as exc:
                    if "_already_exists" not in str(exc) or attempt == IMPORT_ATTEMPTS - 1:
                        raise
                    time.sleep(0.2 * 2**attempt)
        finally:
            path.unlink(missing_ok=True)

    # -- inspection -----------------------------------------------------------------------

    def connected_users(self) -> list[str]:
        """The user of every open client connection (one entry per connection)."""
        out = self._ctl("list_connections", "user", "--formatter", "json", quiet=True).stdout
        return [row["user"] for row in json.loads(out or "[]")]

    def list_permissions(self) -> dict[str, Permissions]:
        """User -> permissions on this broker's vhost."""
        out = self._ctl(
            "list_permissions", "-p", self.vhost, "--formatter", "json", quiet=True
        ).stdout
        return {
            row["user"]: Permissions(row["configure"], row["write"], row["read"])
            for row in json.loads(out or "[]")
        }

    def list_users(self) -> list[str]:
        out = self._ctl("list_users", "--formatter", "json", quiet=True).stdout
        return [row["user"] for row in json.loads(out or "[]")]

    def queue_depths(self) -> dict[str, int]:
        """Queue -> messages (ready + unacknowledged) on this broker's vhost."""
        out = self._ctl(
            "list_queues", "-p", self.vhost, "name", "messages", "--formatter", "json", quiet=True
        ).stdout
        return {row["name"]: int(row["messages"]) for row in json.loads(out or "[]")}

    def queue_types(self) -> dict[str, str]:
        """Queue -> type (classic, quorum) on this broker's vhost."""
        out = self._ctl(
            "list_queues", "-p", self.vhost, "name", "type", "--formatter", "json", quiet=True
        ).stdout
        return {row["name"]: str(row["type"]) for row in json.loads(out or "[]")}


def queue_definition(queue: str, vhost: str, *, quorum: bool = False) -> dict[str, object]:
    """A durable queue; a quorum queue (replicated over a cluster's members) when `quorum`."""
    arguments = {"x-queue-type": "quorum"} if quorum else {}
    return {
        "name": queue,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": arguments,
    }
