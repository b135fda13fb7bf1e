"""The node's copy of the network map: peers, notaries and the network parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from dlt.crypto import SecureHash
from dlt.identity import Party, X500Name
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.node.identity_service import IdentityService
from dlt.node.node_info import NodeInfo

ParametersFetcher = Callable[[SecureHash], Awaitable[NetworkParameters]]
"""Fetches (and verifies) the network parameters with a hash, from the network map."""


class NetworkMapCache:
    def __init__(self, parameters: NetworkParameters, identities: IdentityService) -> None:
        self._identities = identities
        self._nodes: dict[X500Name, NodeInfo] = {}
        self._listeners: list[Callable[[NodeInfo], None]] = []
        self._known_parameters: dict[SecureHash, NetworkParameters] = {}
        self.fetch_parameters: ParametersFetcher | None = None
        """Set by the node process, so older parameters a back-chain pins can be verified."""
        self._install(parameters)

    def add_node(self, info: NodeInfo) -> None:
        """Keep the newest NodeInfo per node; older serials are ignored."""
        known = self._nodes.get(info.name)
        if known is not None and known.serial >= info.serial:
            return
        self._nodes[info.name] = info
        self._identities.register(info.legal_identity)
        for listener in self._listeners:
            listener(info)

    def retain(self, names: Iterable[X500Name]) -> list[X500Name]:
        """Forget every node not in `names` (the current map, less revoked nodes), and its
        identity, so nothing it sends is accepted any more; returns who was forgotten."""
        keep = set(names)
        gone = [name for name in self._nodes if name not in keep]
        for name in gone:
            info = self._nodes.pop(name)
            self._identities.forget(info.legal_identity)
        return gone

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

    @property
    def parameters(self) -> NetworkParameters:
        """The parameters in force; replaced only through `update_parameters`."""
        return self._parameters

    @property
    def parameters_hash(self) -> SecureHash:
        """The hash of the parameters in force, computed once per update rather than by
        encoding them again in every flow that pins them."""
        return self._parameters_hash

    def update_parameters(self, parameters: NetworkParameters) -> None:
        if parameters is self._parameters:
            return  # every poll of an unchanged map hands back the same verified object
        self._install(parameters)

    def _install(self, parameters: NetworkParameters) -> None:
        self._parameters = parameters
        self._parameters_hash = parameters.hash
        self._known_parameters[self._parameters_hash] = parameters
        for notary in parameters.notaries:
            self._identities.register(notary.identity)

    def known_parameters(self, parameters_hash: SecureHash) -> NetworkParameters | None:
        """Parameters this node has accepted, current or past, by hash."""
        return self._known_parameters.get(parameters_hash)

    async def ensure_parameters(self, hashes: Iterable[SecureHash | None]) -> None:
        """Fetch the parameters among `hashes` this node has not seen yet, where it can;
        verification refuses a transaction pinned to parameters it still does not know."""
        for parameters_hash in {h for h in hashes if h is not None}:
            if parameters_hash in self._known_parameters or self.fetch_parameters is None:
                continue
            fetched = await self.fetch_parameters(parameters_hash)
            if fetched.hash == parameters_hash:
                self._known_parameters[parameters_hash] = fetched
