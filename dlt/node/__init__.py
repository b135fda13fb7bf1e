"""The node: services, identities, the network-map cache, and how a node joins the network."""

from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.node.network_map_client import (
    InvalidResponseError,
    NetworkMapClient,
    NetworkMapClientError,
    NetworkMapRequestError,
    NetworkMapTrustError,
    NetworkMapUnavailableError,
    RegistrationRejectedError,
    RegistrationTicket,
)
from dlt.node.network_map_types import (
    InvalidNetworkMapError,
    InvalidNetworkParametersError,
    InvalidNodeInfoError,
    NetworkMap,
    NetworkMapVerificationError,
    SignedNetworkMap,
    SignedNetworkParameters,
    SignedNodeInfo,
)
from dlt.node.node_info import NodeInfo

__all__ = [
    "InvalidNetworkMapError",
    "InvalidNetworkParametersError",
    "InvalidNodeInfoError",
    "InvalidResponseError",
    "NetworkMap",
    "NetworkMapClient",
    "NetworkMapClientError",
    "NetworkMapRequestError",
    "NetworkMapTrustError",
    "NetworkMapUnavailableError",
    "NetworkMapVerificationError",
    "NetworkParameters",
    "NodeInfo",
    "NotaryInfo",
    "RegistrationRejectedError",
    "RegistrationTicket",
    "SignedNetworkMap",
    "SignedNetworkParameters",
    "SignedNodeInfo",
]
