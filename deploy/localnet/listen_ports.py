"""Ports a local network's processes will listen on, chosen when the network is made.

A port that is free when the network is made must still be free when its process starts,
seconds or minutes later. Ports in the kernel's ephemeral range can meanwhile be taken by any
process's outgoing connection (with 80 nodes starting, one in a hundred was), so they are
drawn below it, distinct from one another.
"""

from __future__ import annotations

from pathlib import Path

from deploy.rabbitmq import free_port

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOW = 30_000
"""Below the brokers' distribution ports (20000-29999), up to the ephemeral range."""


def ephemeral_start(path: Path = EPHEMERAL_RANGE) -> int | None:
    """The first port the kernel hands out to outgoing connections, where it says."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class ListenPorts:
    """Draws distinct free ports, below the ephemeral range when there is room there."""

    def __init__(self, ephemeral: int | None = None) -> None:
        start = ephemeral if ephemeral is not None else ephemeral_start()
        self._range = (LOW, start) if start is not None and start - LOW >= 1_000 else None
        self._given: set[int] = set()

    def take(self) -> int:
        while True:
            port = free_port(*self._range) if self._range else free_port()
            if port not in self._given:
                self._given.add(port)
                return port
