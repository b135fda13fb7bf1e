"""A node: database, vault, keys, identities, messaging and the flow engine, put together.

The same assembly serves the MockNetwork (in-memory transport) and the node process (AMQP).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from dlt.crypto import PrivateKey
from dlt.flows.api import FlowHandle, FlowLogic
from dlt.flows.engine import FlowEngine
from dlt.flows.fiber import CrashHook
from dlt.flows.hospital import Hospital
from dlt.flows.library.notary_client import NotaryClientSettings
from dlt.identity import Party, X500Name
from dlt.ledger import cordapp_attachment
from dlt.ledger.network_parameters import NetworkParameters
from dlt.messaging.transport import Transport
from dlt.node.identity_service import IdentityService
from dlt.node.key_management import KeyManagementService
from dlt.node.metrics import NodeMetrics
from dlt.node.network_map_cache import NetworkMapCache
from dlt.node.node_info import NodeInfo
from dlt.node.services import ServiceHub, utc_now
from dlt.vault.attachment_store import SqlAttachmentStorage
from dlt.vault.database import Database
from dlt.vault.query import PageSpecification, VaultQueryCriteria
from dlt.vault.schema import StateStatus
from dlt.vault.vault_service import VaultService

CORDAPP_MODULES = ("flows",)
"""Submodules a CorDapp may have besides its package: importing them registers its flows."""


def load_cordapp(package: str) -> None:
    """Import a CorDapp: its package (states, contracts, schemas) and its flows, if any."""
    module = importlib.import_module(package)
    if not hasattr(module, "__path__"):
        return
    for submodule in CORDAPP_MODULES:
        name = f"{package}.{submodule}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


class Node:
    def __init__(
        self,
        *,
        name: X500Name,
        legal_key: PrivateKey,
        database_url: str,
        transport: Transport,
        parameters: NetworkParameters,
        key_directory: Path | None = None,
        cordapps: Sequence[str] = (),
        clock: Callable[[], datetime] = utc_now,
        hospital: Hospital | None = None,
        crash_hook: CrashHook | None = None,
        addresses: Sequence[str] = (),
        metrics: NodeMetrics | None = None,
        notary_client: NotaryClientSettings | None = None,
    ) -> None:
        self.name = name
        self.cordapps = tuple(cordapps)
        for package in self.cordapps:
            load_cordapp(package)
        self.db = Database(database_url)
        keys = KeyManagementService(key_directory)
        keys.add(legal_key, store=False)
        party = Party(name=name, owning_key=legal_key.public_key)
        identities = IdentityService([party])
        self.info = NodeInfo(legal_identity=party, addresses=tuple(addresses))
        self.network_map = NetworkMapCache(parameters, identities)
        self.network_map.add_node(self.info)
        self.metrics = metrics or NodeMetrics()
        self.services = ServiceHub(
            our_identity=party,
            db=self.db,
            identity=identities,
            keys=keys,
            network_map=self.network_map,
            vault=VaultService(self.db, lambda: keys.keys),
            attachments=SqlAttachmentStorage(self.db),
            clock=clock,
            notary_client=notary_client or NotaryClientSettings(),
            metrics=self.metrics,
        )
        for status in (StateStatus.UNCONSUMED, StateStatus.CONSUMED):
            self.metrics.vault_states.labels(status.value).set_function(
                lambda status=status: self._count_states(status)
            )
        self.engine = FlowEngine(
            db=self.db,
            transport=transport,
            services=self.services,
            hospital=hospital,
            crash_hook=crash_hook,
            metrics=self.metrics,
        )
        self.started = False

    def _count_states(self, status: StateStatus) -> int:
        if not self.started:
            return 0
        criteria = VaultQueryCriteria(status=status)
        page = self.db.read_sync(
            lambda s: self.services.vault.query_in(s, criteria, PageSpecification(1, 1))
        )
        return page.total_states_available

    @property
    def party(self) -> Party:
        return self.services.our_identity

    async def start(self) -> None:
        """Create tables, install CorDapp code attachments, resume flows, take messages."""
        self.db.create_tables()
        for package in sorted({name.partition(".")[0] for name in self.cordapps}):
            self.services.attachments.import_attachment(cordapp_attachment(package))
        await self.engine.start()
        self.started = True

    async def stop(self) -> None:
        if self.started:
            self.started = False
            await self.engine.stop()
        self.db.close()

    async def start_flow(self, flow: FlowLogic[Any]) -> FlowHandle[Any]:
        return await self.engine.start_flow(flow)

    async def run_flow(self, flow: FlowLogic[Any]) -> Any:
        """Start a flow and wait for its result."""
        handle = await self.start_flow(flow)
        return await handle.result()

    def __repr__(self) -> str:
        return f"Node({self.name})"
