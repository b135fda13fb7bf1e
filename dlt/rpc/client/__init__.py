"""An asyncio client for a node's RPC (dlt.rpc.v1.NodeRpc), with typed results and errors.

    async with RpcClient("127.0.0.1:10003", "ops", password, ca_pem) as client:
        run = await client.start_flow("test.IssueTokens", {"owner": "O=Bob, L=York, C=GB",
                                                           "amount": 10})
        async for step in run.progress():
            print(step)
        result = await run.result()        # a LedgerValue, or FlowFailedError

Every call result is a frozen dataclass mirroring the protocol message, with datetimes and
enums instead of protobuf types. Ledger objects come as `LedgerValue`: `data` is the node's
readable JSON rendering, `decode()` rebuilds the exact object from its canonical bytes when
the CorDapp that defines it is importable here.

gRPC failures become exceptions that say what to do about them: `RpcAuthError` (wrong or
missing credentials), `RpcPermissionError` (names the permission to ask for),
`RpcInvalidArgument` (names the bad field), `RpcNotFoundError`, `RpcUnavailable` (node down,
wrong address or a TLS problem), and `FlowFailedError` when a started flow fails on the node.

The modules: `connection` holds `RpcClient`, `flow_run` follows a started flow, `query` builds
vault queries, `results` holds what calls return (and `as_json` to print it), `errors` the
exceptions, and `convert` turns protocol messages into results.
"""

from dlt.rpc.client.connection import RpcClient
from dlt.rpc.client.errors import (
    FlowFailedError,
    RpcAuthError,
    RpcError,
    RpcInvalidArgument,
    RpcNotFoundError,
    RpcPermissionError,
    RpcUnavailable,
)
from dlt.rpc.client.flow_run import FlowRun
from dlt.rpc.client.query import ColumnCondition, SortBy, VaultQuery
from dlt.rpc.client.results import (
    AttachmentInfo,
    FlowInfo,
    FlowStatus,
    LedgerValue,
    NetworkMapInfo,
    NotaryServiceInfo,
    PeerInfo,
    StateStatus,
    TransactionInfo,
    TransactionPage,
    VaultPage,
    VaultStateInfo,
    as_json,
)

__all__ = [
    "AttachmentInfo",
    "ColumnCondition",
    "FlowFailedError",
    "FlowInfo",
    "FlowRun",
    "FlowStatus",
    "LedgerValue",
    "NetworkMapInfo",
    "NotaryServiceInfo",
    "PeerInfo",
    "RpcAuthError",
    "RpcClient",
    "RpcError",
    "RpcInvalidArgument",
    "RpcNotFoundError",
    "RpcPermissionError",
    "RpcUnavailable",
    "SortBy",
    "StateStatus",
    "TransactionInfo",
    "TransactionPage",
    "VaultPage",
    "VaultQuery",
    "VaultStateInfo",
    "as_json",
]
