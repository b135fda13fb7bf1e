"""The node's copy of the network map: peers, notaries and the network parameters."""

from __future__ import annotations

from collections.abc import Callable

from dlt.identity import Party, X500Name
from dlt.node.identity_service import IdentityService
from dlt.node.node_info import NetworkParameters, NodeInfo, NotaryInfo


class NetworkMapCache:
    def __init__(self, parameters: NetworkParameters, identities: IdentityService) -> None:
        self.parameters = parameters
        self._identities = identities
        self._nodes: dict[X500Name, NodeInfo] = {}
        self._listeners: list[Callable[[NodeInfo], None]] = []
        for notary in parameters.notaries:
            identities.register(notary.identity)

    def add_node(self, info: NodeInfo) -> None:
        """Keep the newest NodeInfo per node; older serials are ignored."""
        known = self._nodes.get(info.name)
        if known is not None and known.serial >= info.serial:
            return
        self._nodes[info.name] = info
        self._identities.register(info.legal_identity)
        for listener in self._listeners:
            listener(info)

    def subscribe(self, listener: Callable[[NodeInfo], None]) -> None:
        self._listeners.append(listener)

    def node(self, name: X500Name) -> NodeInfo | None:
        return self._nodes.get(name)

    @property
    def nodes(self) -> list[NodeInfo]:
        return list(self._nodes.values())

    @property
    def notaries(self) -> tuple[NotaryInfo, ...]:
        return self.parameters.notaries

    @property
    def notary_identities(self) -> list[Party]:
        return [notary.identity for notary in self.parameters.notaries]

    def notary(self, party: Party) -> NotaryInfo | None:
        for notary in self.parameters.notaries:
            if notary.identity == party:
                return notary
        return None

    def update_parameters(self, parameters: NetworkParameters) -> None:
        self.parameters = parameters
        for notary in parameters.notaries:
            self._identities.register(notary.identity)
