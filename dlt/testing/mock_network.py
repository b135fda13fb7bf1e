"""MockNetwork: real nodes in one process over an in-memory transport.

Each node has its own SQLite file (or PostgreSQL database), keys on disk, and the real flow
engine, so a node can be crashed at an exact journal step and restarted with its vault intact.
The in-memory network keeps unacknowledged messages across restarts, like a broker, and can
drop, delay, duplicate or reorder messages on demand.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from dlt.crypto import Ed25519PrivateKey, PrivateKey, PublicKey, load_private_key
from dlt.crypto.composite import CompositeKey
from dlt.flows.api import FlowHandle, FlowLogic
from dlt.flows.engine import NodeCrashedError
from dlt.flows.hospital import Hospital
from dlt.flows.library.notary_client import NotaryClientSettings
from dlt.identity import Party, X500Name
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.messaging.in_memory import Fault, InMemoryNetwork
from dlt.node.node import Node
from dlt.node.node_info import NodeInfo
from dlt.node.services import utc_now
from dlt.vault.database import sqlite_url

NotaryInstaller = Callable[[Node, bool], None]


def _slug(name: X500Name) -> str:
    """A directory name unique per node: every attribute of its name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(name)).strip("-").lower()


class MockNode:
    """A node of a MockNetwork that can be stopped, crashed and restarted."""

    def __init__(
        self, network: MockNetwork, name: X500Name, notary: bool, validating: bool
    ) -> None:
        self.network = network
        self.name = name
        self.notary = notary
        self.validating = validating
        self.directory = network.base_dir / _slug(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.legal_key = self._load_or_create_key()
        self.service: Party | None = None
        """The cluster this node is a replica of, if it is one."""
        self.responders: dict[str, type[FlowLogic[Any]]] = {}
        """Responders that replace the registered ones on this node (faulty behaviour)."""
        self.node: Node | None = None
        self._crash_at: tuple[int, str, str | None] | None = None
        self.crashed = asyncio.Event()

    def _load_or_create_key(self) -> PrivateKey:
        path = self.directory / "identity.pem"
        if path.exists():
            return load_private_key(path.read_bytes())
        key = Ed25519PrivateKey.generate()
        path.write_bytes(key.to_pem())
        return key

    @property
    def party(self) -> Party:
        return Party(name=self.name, owning_key=self.legal_key.public_key)

    @property
    def services(self) -> Any:
        return self._require().services

    def _require(self) -> Node:
        if self.node is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.node

    async def start(self) -> None:
        if self.node is not None:
            return
        self.crashed = asyncio.Event()
        node = Node(
            name=self.name,
            legal_key=self.legal_key,
            database_url=self.network.database_url(self),
            transport=self.network.messaging.transport(self.name),
            parameters=self.network.parameters,
            key_directory=self.directory / "keys",
            cordapps=self.network.cordapps,
            clock=self.network.clock,
            hospital=self.network.hospital,
            crash_hook=self._hook,
            notary_client=self.network.notary_client,
        )
        node.engine.responders.update(self.responders)
        if self.notary:
            self.network.install_notary(node, self.validating, self.service)
        for other in self.network.nodes:
            if other is not self:
                node.network_map.add_node(other.info_for_map())
        node.engine.on_crash = lambda: asyncio.get_running_loop().create_task(self._crash())
        self.node = node
        await node.start()

    def info_for_map(self) -> NodeInfo:
        return NodeInfo(legal_identity=self.party)

    async def stop(self) -> None:
        """A clean stop: flows stop where they are and resume on the next start."""
        node, self.node = self.node, None
        if node is not None:
            await node.stop()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def crash_at(self, seq: int, phase: str = "after", flow_name: str | None = None) -> None:
        """Crash this node when a flow commits journal step `seq` ("before" or "after" it)."""
        self._crash_at = (seq, phase, flow_name)

    def _hook(self, flow_id: str, steps: range, phase: str) -> None:
        if self._crash_at is None:
            return
        target_seq, target_phase, flow_name = self._crash_at
        if phase != target_phase or target_seq not in steps:
            return
        if flow_name is not None:
            running = self._require().engine._running.get(flow_id)
            if running is None or type(running.fiber.flow).flow_name != flow_name:
                return
        self._crash_at = None
        raise NodeCrashedError(f"{self.name} crashed at step {target_seq} ({phase} commit)")

    async def _crash(self) -> None:
        node, self.node = self.node, None
        if node is not None:
            await node.engine.stop()
            node.db.close()
        self.crashed.set()

    async def start_flow(self, flow: FlowLogic[Any]) -> FlowHandle[Any]:
        return await self._require().start_flow(flow)

    async def run(self, flow: FlowLogic[Any], timeout: float = 30.0) -> Any:
        """Start a flow here and wait for its result."""
        handle = await self.start_flow(flow)
        async with asyncio.timeout(timeout):
            return await handle.result()

    async def result_of(self, flow_id: str, timeout: float = 30.0) -> Any:
        async with asyncio.timeout(timeout):
            return await self._require().engine.result_of(flow_id)

    def __repr__(self) -> str:
        return f"MockNode({self.name})"


class MockNetwork:
    """Create nodes with `create_node` / `create_notary`, then `start()` them all."""

    def __init__(
        self,
        base_dir: Path,
        *,
        cordapps: Sequence[str] = (),
        database_url: Callable[[MockNode], str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        hospital: Hospital | None = None,
        notary_client: NotaryClientSettings | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.cordapps = tuple(cordapps)
        self.messaging = InMemoryNetwork()
        self.parameters = NetworkParameters()
        self.nodes: list[MockNode] = []
        self.clock = clock
        self.hospital = hospital or Hospital(base_delay=0.01, max_delay=0.1)
        self.notary_client = notary_client or NotaryClientSettings(
            first_reply_timeout=0.5, deadline=10.0, max_backoff=1.0
        )
        self._database_url = database_url

    def database_url(self, node: MockNode) -> str:
        if self._database_url is not None:
            return self._database_url(node)
        return sqlite_url(node.directory / "node.db")

    def install_notary(self, node: Node, validating: bool, service: Party | None = None) -> None:
        from notary.service import install_notary_service

        install_notary_service(node, validating=validating, service=service)

    def create_node(self, name: str) -> MockNode:
        node = MockNode(self, X500Name.parse(name), notary=False, validating=False)
        self.nodes.append(node)
        return node

    def create_notary_cluster(
        self,
        name: str = "O=Notary Cluster, L=Zurich, C=CH",
        replicas: int = 4,
        *,
        validating: bool = False,
    ) -> list[MockNode]:
        """A notary service of `replicas` nodes (n = 3f+1 tolerates f faulty ones); the
        service's key is the composite of theirs with threshold n - f."""
        service_name = X500Name.parse(name)
        nodes = []
        for number in range(1, replicas + 1):
            replica_name = X500Name(
                service_name.organisation,
                service_name.locality,
                service_name.country,
                organisation_unit=f"Replica {number}",
            )
            node = MockNode(self, replica_name, notary=True, validating=validating)
            self.nodes.append(node)
            nodes.append(node)
        tolerance = (replicas - 1) // 3
        key = CompositeKey.build(
            [node.legal_key.public_key for node in nodes], threshold=replicas - tolerance
        )
        service = Party(name=service_name, owning_key=key)
        for node in nodes:
            node.service = service
        info = NotaryInfo(
            identity=service, validating=validating, replicas=tuple(node.party for node in nodes)
        )
        self.parameters = self.parameters.model_copy(
            update={"notaries": (*self.parameters.notaries, info)}
        )
        return nodes

    def create_notary(
        self, name: str = "O=Notary Service, L=Zurich, C=CH", *, validating: bool = False
    ) -> MockNode:
        node = MockNode(self, X500Name.parse(name), notary=True, validating=validating)
        self.nodes.append(node)
        notaries = (
            *self.parameters.notaries,
            NotaryInfo(identity=node.party, validating=validating),
        )
        self.parameters = self.parameters.model_copy(update={"notaries": notaries})
        return node

    def trust_signer(self, purpose: str, node: MockNode) -> None:
        """Name `node`'s key in the network parameters as trusted for `purpose` (the market
        operator's for market rules), as the network's operator does; running nodes follow."""
        self.trust_key(purpose, node.legal_key.public_key)

    def trust_key(self, purpose: str, key: PublicKey) -> None:
        """Name `key` in the network parameters as trusted for `purpose` (a doorman's for
        meters, say); running nodes follow."""
        self.parameters = self.parameters.with_trusted_signer(purpose, key)
        for member in self.nodes:
            if member.node is not None:
                member.node.network_map.update_parameters(self.parameters)

    async def start(self) -> None:
        for node in self.nodes:
            await node.start()

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()

    def add_fault(self, fault: Fault) -> Fault:
        return self.messaging.add_fault(fault)

    async def settle(self, timeout: float = 10.0, quiet_for: float = 0.05) -> None:
        """Wait until no flow runs and no message is in flight anywhere."""
        async with asyncio.timeout(timeout):
            while True:
                if not self._busy():
                    await asyncio.sleep(quiet_for)
                    if not self._busy():
                        return
                await asyncio.sleep(0.005)

    def _busy(self) -> bool:
        running = [n for n in self.nodes if n.node is not None]
        return any(n.node.engine.in_flight for n in running if n.node is not None) or any(
            self.messaging.pending(n.name) for n in running
        )
