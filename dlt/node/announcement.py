"""A freshly enrolled node publishes its NodeInfo before it first runs.

The NodeInfo is the one the node publishes at start (its broker and inbox, its RPC address),
signed by its legal identity key. Publishing it at enrolment lets the network operator read the
node's certified legal identity key from the map before the node runs: that is how a notary
replica's key gets into the cluster the network parameters name. Publication needs no network
parameters, so it works on a network that has none yet for the node.
"""

from __future__ import annotations

import time

from dlt.identity.hierarchy import NodeCertificates
from dlt.messaging.amqp import inbox_queue_name
from dlt.node.config import NodeConfig
from dlt.node.network_map_client import NetworkMapClient
from dlt.node.network_map_types import SignedNodeInfo
from dlt.node.node_info import NodeInfo
from dlt.node.process import messaging_address


def node_info_of(config: NodeConfig, certs: NodeCertificates) -> NodeInfo:
    """What the node will advertise once it runs, with a serial of now in microseconds."""
    queue = inbox_queue_name(certs.party.owning_key)
    return NodeInfo(
        legal_identity=certs.party,
        addresses=(messaging_address(config.messaging.broker_url, queue),),
        rpc_address=config.rpc.address,
        serial=time.time_ns() // 1000,
    )


def announce(config: NodeConfig, certs: NodeCertificates, client: NetworkMapClient) -> NodeInfo:
    """Sign and publish the node's NodeInfo; returns what was published."""
    info = node_info_of(config, certs)
    client.publish(SignedNodeInfo.sign(info, certs.legal_identity_key, certs.legal_identity_chain))
    return info
