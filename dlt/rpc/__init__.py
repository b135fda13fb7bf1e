"""The node's operator RPC over gRPC with TLS: server, client, users and permissions.

`server.RpcServer` serves a node, `client.RpcClient` talks to one, `users.RpcUsers` says who
may do what, and `render` turns ledger objects into the JSON both sides show. The protocol is
protos/dlt/rpc/v1/node.proto; its generated code lives in `dlt.rpc.generated`.
"""
