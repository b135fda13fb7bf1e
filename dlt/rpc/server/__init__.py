"""The node's operator RPC: a gRPC service (dlt.rpc.v1.NodeRpc) over TLS, for RPC users.

Every call is authenticated by username and password (HTTP Basic in the `authorization`
metadata entry) against the node's `RpcUsers`, then authorised: `StartFlow.<flow name>` to start
a flow, `InvokeRpc.<method>` for anything else, or `ALL`. TLS is not optional: passwords travel
in the metadata. The server presents the node's TLS certificate chain; with a client CA it also
demands client certificates (mutual TLS) on top of the passwords.

The server runs on the node's event loop, so it calls the flow engine and the vault directly;
database work runs on the database's own threads and scrypt on a worker thread, so a slow
client or a password check never stalls the node's flows.

Errors reach the client as gRPC status codes with one readable sentence: UNAUTHENTICATED,
PERMISSION_DENIED (naming the missing permission), INVALID_ARGUMENT (bad flow arguments with
pydantic's complaints per field, bad query criteria), NOT_FOUND, and INTERNAL for a failure of
the node itself (logged here with its traceback). A flow that fails after it started is not a
call error: StartFlow reports it in its final FlowFailed event.

The modules: `lifecycle` binds and stops the server, `tls` holds its certificates, `servicer`
composes the endpoints of `flows`, `ledger` (vault and transactions), `network` and
`attachments` over the shared call handling of `endpoints`; `auth` checks who calls,
`criteria` turns a vault query's text into the vault's criteria, `convert` turns node objects
into protocol messages, and `errors` turns a failure into a gRPC status.
"""

from dlt.rpc.server.errors import RpcServerError
from dlt.rpc.server.lifecycle import RpcServer
from dlt.rpc.server.tls import RpcTls

__all__ = ["RpcServer", "RpcServerError", "RpcTls"]
