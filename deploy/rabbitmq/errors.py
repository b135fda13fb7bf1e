"""The broker's typed failures, shared by every part of it so callers catch one kind."""

from __future__ import annotations


class BrokerError(RuntimeError):
    """The private broker could not be started, stopped or provisioned; the message says why."""


class RabbitMQNotInstalledError(BrokerError):
    """The RabbitMQ server programs are not on this machine."""
