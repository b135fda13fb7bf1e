"""The network endpoints: this node's own entry and the network map as the node holds it."""

from __future__ import annotations

from dlt.rpc.generated import node_pb2
from dlt.rpc.server import convert
from dlt.rpc.server.endpoints import Endpoints
from dlt.rpc.server.errors import Context
from dlt.rpc.users import RpcUser


class NetworkEndpoints(Endpoints):
    """The service's network methods; CamelCase names are the protocol's."""

    async def NodeInfo(  # noqa: N802
        self, request: node_pb2.NodeInfoRequest, context: Context
    ) -> node_pb2.Peer:
        async def work(user: RpcUser) -> node_pb2.Peer:
            return convert.peer(self._node.info)

        return await self._unary(context, "NodeInfo", work)

    async def NetworkMap(  # noqa: N802
        self, request: node_pb2.NetworkMapRequest, context: Context
    ) -> node_pb2.NetworkMapResponse:
        async def work(user: RpcUser) -> node_pb2.NetworkMapResponse:
            network_map = self._node.network_map
            parameters = network_map.parameters
            peers = sorted(network_map.nodes, key=lambda info: str(info.name))
            return node_pb2.NetworkMapResponse(
                peers=[convert.peer(info) for info in peers],
                notaries=[
                    node_pb2.NotaryService(
                        identity=convert.party_info(notary.identity),
                        validating=notary.validating,
                        replicas=[
                            convert.party_info(replica) for replica in notary.replica_parties
                        ],
                    )
                    for notary in parameters.notaries
                ],
                epoch=parameters.epoch,
                parameters_hash=str(parameters.hash),
                minimum_platform_version=parameters.minimum_platform_version,
            )

        return await self._unary(context, "NetworkMap", work)
