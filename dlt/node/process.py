"""The node process: `dlt node run --config FILE` (or `python -m dlt.node --config FILE`).

Start-up, in order: certificates (from disk, or the doorman on first start), the network
map and parameters, messaging over AMQP with TLS, the vault and flow engine (which resumes
journaled flows), the NodeInfo published with our addresses, then RPC and metrics. The node
then follows network map updates until SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import uvloop

from dlt.crypto import PublicKey, SecureHash
from dlt.identity import Party, X500Name
from dlt.identity.hierarchy import NodeCertificates
from dlt.ledger import NetworkParameters
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.messaging.routing import RoutingTransport
from dlt.messaging.sealing import Sealer
from dlt.messaging.tls import TlsMaterial
from dlt.node.config import NodeConfig
from dlt.node.enrolment import enrol
from dlt.node.metrics import NodeMetrics
from dlt.node.network_map_client import (
    NetworkMapClient,
    NetworkMapClientError,
    NetworkMapTrustError,
    NetworkMapUnavailableError,
)
from dlt.node.network_map_types import SignedNodeInfo
from dlt.node.node import Node
from dlt.node.node_info import NodeInfo
from dlt.node.notary_replica import service_of
from dlt.rpc.server import RpcServer, RpcTls
from dlt.rpc.users import RpcUsers

log = logging.getLogger("dlt.node")
T = TypeVar("T")

QUEUE_MARK = "#queue="
"""A messaging address is the broker URL, this mark and the inbox queue name."""


def messaging_address(broker_url: str, queue: str) -> str:
    return f"{broker_url}{QUEUE_MARK}{queue}"


def inbox_of(info: NodeInfo) -> str | None:
    for address in info.addresses:
        if QUEUE_MARK in address:
            return address.split(QUEUE_MARK, 1)[1]
    return None


def broker_of(info: NodeInfo) -> str | None:
    """The broker a node advertises (its own organisation's, or a shared one)."""
    for address in info.addresses:
        if QUEUE_MARK in address:
            return address.split(QUEUE_MARK, 1)[0]
    return None


class NodeProcess:
    """One node, assembled from its configuration."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.node: Node | None = None
        self.rpc: RpcServer | None = None
        self.certificates: NodeCertificates | None = None
        self._follow: asyncio.Task[None] | None = None
        root_pem = (config.directory / "truststore.pem").read_bytes()
        self.network_map = NetworkMapClient(config.network_map.url, root_pem)

    async def start(self) -> None:
        config = self.config
        config.directory.mkdir(parents=True, exist_ok=True)
        certs = await enrol(config.directory, config.name, self.network_map, say=log.info)
        self.certificates = certs
        parameters, infos = await _patiently("fetch the network map", self.network_map.fetch_all)
        service, validating = self._notary_role(parameters, certs.party)
        queue = inbox_queue_name(certs.party.owning_key)
        known: dict[X500Name, NodeInfo] = {info.name: info for info in infos}

        def current(name: X500Name) -> NodeInfo | None:
            return self.node.network_map.node(name) if self.node else known.get(name)

        def resolve_queue(name: X500Name) -> str:
            info = current(name)
            found = inbox_of(info) if info is not None else None
            if found is None:
                raise LookupError(f"{name} is not on the network map (yet)")
            return found

        def resolve_broker(name: X500Name) -> str:
            info = current(name)
            found = broker_of(info) if info is not None else None
            if found is None:
                raise LookupError(f"{name} is not on the network map (yet)")
            return found

        def sender_from_user_id(user_id: str) -> X500Name | None:
            """The peer whose certified name the broker logged in as `user_id`."""
            infos = self.node.network_map.nodes if self.node else list(known.values())
            for info in infos:
                if broker_user_name(info.name) == user_id:
                    return info.name
            return None

        def peers() -> list[X500Name]:
            infos = self.node.network_map.nodes if self.node else list(known.values())
            return [info.name for info in infos if info.name != config.name]

        def identity_key(name: X500Name) -> PublicKey | None:
            info = current(name)
            return info.legal_identity.owning_key if info is not None else None

        def dropped(reason: str) -> None:
            if self.node is not None:
                self.node.metrics.messages_dropped.labels(reason).inc()

        transport = RoutingTransport.for_node(
            config.name,
            config.messaging.broker_url,
            queue,
            TlsMaterial.for_node(certs),
            resolve_queue,
            resolve_broker,
            sender_from_user_id,
            peers,
            declare_inbox=config.messaging.declare_inbox,
            sealer=(
                Sealer(config.name, certs.legal_identity_key, identity_key)
                if config.messaging.seal
                else None
            ),
            on_drop=dropped,
        )
        node = Node(
            name=config.name,
            legal_key=certs.legal_identity_key,
            database_url=config.database,
            transport=transport,
            parameters=parameters,
            key_directory=config.directory / "keys",
            cordapps=config.cordapps,
            addresses=(messaging_address(config.messaging.broker_url, queue),),
            metrics=NodeMetrics(process=True),
        )
        self.node = node
        client = self.network_map

        async def fetch_parameters(parameters_hash: SecureHash) -> NetworkParameters:
            return await asyncio.to_thread(client.network_parameters, parameters_hash)

        node.network_map.fetch_parameters = fetch_parameters
        for info in infos:
            node.network_map.add_node(info)
        if config.notary is not None:
            module = importlib.import_module(config.notary.service_module)
            faulty = (
                {} if config.notary.behaviour is None else {"behaviour": config.notary.behaviour}
            )
            module.install_notary_service(node, validating=validating, service=service, **faulty)
            if faulty:
                log.warning("%s runs as a FAULTY replica: %s", config.name, config.notary.behaviour)
        await node.start()
        await _patiently("publish this node's NodeInfo", lambda: self._publish(node, certs))
        users = RpcUsers(users=config.rpc.users)
        tls = RpcTls.from_node_certificates(certs)
        self.rpc = RpcServer(node, users, config.rpc.address, tls)
        await self.rpc.start()
        if config.metrics is not None:
            host, port = config.metrics.address.rsplit(":", 1)
            node.metrics.serve(host, int(port))
        self._follow = asyncio.get_running_loop().create_task(self._follow_network_map(node))
        log.info("%s is up: RPC on %s", config.name, self.rpc.address)

    def _notary_role(self, parameters: NetworkParameters, us: Party) -> tuple[Party | None, bool]:
        """The service identity and validating flag this node notarises with, if it is a
        notary: from its config, or, for a replica that joined by name, from the parameters."""
        notary = self.config.notary
        if notary is None or notary.replica_of is None:
            return (None, False) if notary is None else (notary.service, notary.validating)
        cluster = service_of(parameters, notary.replica_of, us)
        log.info("%s is a replica of %s", us.name, cluster.identity.name)
        return cluster.identity, cluster.validating

    async def _publish(self, node: Node, certs: NodeCertificates) -> None:
        info = node.info.model_copy(
            update={"rpc_address": self.config.rpc.address, "serial": time.time_ns() // 1000}
        )
        signed = SignedNodeInfo.sign(info, certs.legal_identity_key, certs.legal_identity_chain)
        await asyncio.to_thread(self.network_map.publish, signed)
        node.network_map.add_node(info)

    async def _follow_network_map(self, node: Node) -> None:
        while True:
            await asyncio.sleep(self.config.network_map.poll_seconds)
            try:
                parameters, infos = await self.network_map.fetch_all()
            except NetworkMapClientError as exc:
                log.warning("cannot refresh the network map: %s", exc)
                continue
            node.network_map.update_parameters(parameters)
            for info in infos:
                node.network_map.add_node(info)
            gone = node.network_map.retain([*(info.name for info in infos), self.config.name])
            for name in gone:
                log.warning("%s left the network map (revoked or removed); forgot it", name)

    async def stop(self) -> None:
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
        if self.rpc is not None:
            await self.rpc.stop()
        if self.node is not None:
            await self.node.stop()
        self.network_map.close()


STARTUP_PATIENCE = 60.0
"""How long a starting node keeps asking a network map service that does not answer."""


async def _patiently(
    what: str, call: Callable[[], Awaitable[T]], patience: float = STARTUP_PATIENCE
) -> T:
    """`call()`, asked again with backoff while the service is unavailable (a restart, a
    dropped connection), for up to `patience` seconds. A server that is not the network's
    (`NetworkMapTrustError`) and a refused request fail at once: asking again cannot help."""
    deadline = time.monotonic() + patience
    wait = 0.25
    while True:
        try:
            return await call()
        except NetworkMapTrustError:
            raise
        except NetworkMapUnavailableError as exc:
            if time.monotonic() + wait > deadline:
                raise
            log.warning("cannot %s yet, asking again in %.2f s: %s", what, wait, exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)


async def serve(config: NodeConfig) -> None:
    """Run until SIGTERM or SIGINT."""
    process = NodeProcess(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await process.start()
    try:
        await stop.wait()
    finally:
        log.info("%s is stopping", config.name)
        await process.stop()


def run(config_path: Path) -> int:
    config = NodeConfig.load(config_path)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # uvloop: the event loop and its TLS transports are a quarter of a node's CPU under load
    # in asyncio's pure-Python loop (py-spy, issue 12); uvloop runs the same code in libuv.
    uvloop.run(serve(config))
    return 0
