"""The one gRPC servicer of dlt.rpc.v1.NodeRpc, composed of each area's endpoints."""

from __future__ import annotations

from dlt.rpc.server.attachments import AttachmentEndpoints
from dlt.rpc.server.flows import FlowEndpoints
from dlt.rpc.server.ledger import LedgerEndpoints
from dlt.rpc.server.network import NetworkEndpoints


class NodeRpc(FlowEndpoints, LedgerEndpoints, NetworkEndpoints, AttachmentEndpoints):
    """Every method of the service; a method none of them defines answers UNIMPLEMENTED."""
