"""Notary services as a node's network map lists them, and whether each replica answers.

`dlt network notaries` and the explorer both show this. A replica counts as up when its RPC
port accepts a TCP connection; the time that takes is its latency as seen from here. It is a
cheap sign that the process runs, not proof that it signs.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

from dlt.rpc.client import NetworkMapInfo

PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class ReplicaHealth:
    name: str
    rpc_address: str | None
    latency_ms: float | None
    """Milliseconds to connect to the replica's RPC port; None when it did not answer."""

    @property
    def healthy(self) -> bool:
        return self.latency_ms is not None


@dataclass(frozen=True)
class NotaryHealth:
    name: str
    fingerprint: str
    validating: bool
    quorum: int
    """Replica signatures needed: 2f+1 of n = 3f+1 (1 of 1 for a single node)."""
    replicas: tuple[ReplicaHealth, ...]

    @property
    def healthy_replicas(self) -> int:
        return sum(replica.healthy for replica in self.replicas)


def quorum_of(replica_count: int) -> int:
    return replica_count - (replica_count - 1) // 3


def probe(address: str | None, timeout: float = PROBE_TIMEOUT) -> float | None:
    """Milliseconds to open a TCP connection to `address` (host:port), or None."""
    if not address:
        return None
    host, _, port = address.rpartition(":")
    started = time.perf_counter()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return (time.perf_counter() - started) * 1000
    except (OSError, ValueError):
        return None


def notary_health(
    network_map: NetworkMapInfo, timeout: float = PROBE_TIMEOUT
) -> list[NotaryHealth]:
    """Every notary service with each replica probed in turn."""
    rpc_of = {peer.name: peer.rpc_address for peer in network_map.peers}
    services = []
    for notary in network_map.notaries:
        names = notary.replicas or (notary.name,)
        replicas = tuple(
            ReplicaHealth(name, rpc_of.get(name), probe(rpc_of.get(name), timeout))
            for name in names
        )
        services.append(
            NotaryHealth(
                name=notary.name,
                fingerprint=notary.fingerprint,
                validating=notary.validating,
                quorum=quorum_of(len(replicas)),
                replicas=replicas,
            )
        )
    return services


async def notary_health_async(
    network_map: NetworkMapInfo, timeout: float = PROBE_TIMEOUT
) -> list[NotaryHealth]:
    """`notary_health` off the event loop, for servers."""
    return await asyncio.to_thread(notary_health, network_map, timeout)
