"""Who may do what on the broker: safe queue and user names, and each kind of user's regexes.

A node's user may declare and read only its own inbox (and outboxes) and publish through the
default exchange; a peer of another organisation may only publish. See `node_permissions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INBOX_PREFIX = "p2p.inbound."
OUTBOX_PREFIX = "p2p.outbound."
"""Queue name prefixes of dlt.messaging (amqp, routing); repeated so this package stays free of
the platform's imports."""

# Queue names go into permission regexes and definitions; keep them plain.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# User names are rendered subjects: RabbitMQ escapes every byte outside printable ASCII.
_SAFE_USER = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,1023}")


def check_name(kind: str, value: str) -> str:
    """`value` if it is a plain queue (or other resource) name, else a ValueError saying why."""
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError(
            f"{kind} {value!r} must be 1-200 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def check_user(value: str) -> str:
    """`value` if it can be a user RabbitMQ logs in by certificate subject, else a ValueError."""
    if not _SAFE_USER.fullmatch(value):
        raise ValueError(
            f"broker user {value!r} must be 1-1024 printable ASCII characters, as RabbitMQ "
            "renders a certificate subject; make it with broker_user_name(legal name)"
        )
    return value


@dataclass(frozen=True)
class Permissions:
    """A user's regexes on one vhost (RabbitMQ matches resource names against them)."""

    configure: str
    write: str
    read: str


def node_permissions(inbox_queue: str) -> Permissions:
    """What a node may do: declare (configure) and consume/purge (read) its own inbox, and its
    own outboxes (`p2p.outbound.<its key hash>.<peer>`, where messages for peers on other brokers
    wait to be forwarded, see dlt.messaging.routing), and publish (write) to the default
    exchange, which routes to any queue by name. It can reach every peer's inbox that way but
    can neither read, bind, purge nor delete another's queue, nor create other queues or
    exchanges. (RabbitMQ checks no permission on a *passive* declare, so a node can learn
    whether a queue exists and its message count; inbox names are public.)"""
    own = check_name("queue name", inbox_queue)
    key_hash = own.removeprefix(INBOX_PREFIX)
    outboxes = rf"{re.escape(OUTBOX_PREFIX + key_hash)}\.[A-Za-z0-9]+" if own != key_hash else None
    allowed = f"^{re.escape(own)}$" if outboxes is None else f"^({re.escape(own)}|{outboxes})$"
    return Permissions(configure=allowed, write=r"^amq\.default$", read=allowed)


def peer_permissions() -> Permissions:
    """What a node of another organisation may do on this organisation's broker: publish
    through the default exchange (to the inboxes hosted here), and nothing else: no queue of
    its own, no reading. Its user exists so EXTERNAL can log it in and `user_id` be checked."""
    return Permissions(configure="^$", write=r"^amq\.default$", read="^$")
