"""Who is logged in to the explorer, and the read-only view of the node each session gets.

A login is checked by the node itself: the explorer opens an RPC client with the username and
password given and asks the node who it is. A refusal (wrong credentials) leaves no session.
A session is a random token in an HttpOnly, Secure, SameSite=Strict cookie; the explorer keeps
the RPC client behind it and never stores or logs the password.

`ReadOnlyNode` is everything a page may ask the node: reads only. It wraps the RPC client
without exposing it, so no page can start, kill or upload anything (a test checks this).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from dlt.identity import X500Name
from dlt.rpc.client import (
    FlowInfo,
    FlowStatus,
    NetworkMapInfo,
    PeerInfo,
    RpcClient,
    TransactionInfo,
    TransactionPage,
    VaultPage,
    VaultQuery,
)

SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 256


class ReadOnlyNode:
    """The read methods of one node's RPC, as one user; nothing here changes the ledger."""

    READS = (
        "node_info",
        "network_map",
        "list_transactions",
        "get_transaction",
        "vault_query",
        "list_flows",
        "flow_status",
        "track_flow",
    )

    def __init__(self, client: RpcClient) -> None:
        self.__client = client

    @property
    def address(self) -> str:
        return self.__client.address

    async def node_info(self) -> PeerInfo:
        return await self.__client.node_info()

    async def network_map(self) -> NetworkMapInfo:
        return await self.__client.network_map()

    async def list_transactions(self, page_number: int = 1, page_size: int = 0) -> TransactionPage:
        return await self.__client.list_transactions(page_number, page_size)

    async def get_transaction(self, tx_id: str) -> TransactionInfo:
        return await self.__client.get_transaction(tx_id)

    async def vault_query(self, query: VaultQuery) -> VaultPage:
        return await self.__client.vault_query(query)

    async def list_flows(self, statuses: tuple[FlowStatus, ...] = ()) -> list[FlowInfo]:
        return await self.__client.list_flows(statuses)

    async def flow_status(self, flow_id: str) -> FlowInfo:
        return await self.__client.flow_status(flow_id)

    def track_flow(self, flow_id: str) -> AsyncIterator[str]:
        return self.__client.track_flow(flow_id)

    async def close(self) -> None:
        await self.__client.close()


@dataclass
class Session:
    username: str
    node: ReadOnlyNode
    me: PeerInfo
    last_seen: float = field(default_factory=time.monotonic)


class Sessions:
    """Logged-in sessions by token, forgotten after SESSION_IDLE_SECONDS without a request."""

    def __init__(self, rpc_address: str, ca_pem: bytes, node_name: X500Name | None = None) -> None:
        self.rpc_address = rpc_address
        self._ca_pem = ca_pem
        self._node_name = node_name
        """The node the RPC must prove it is (its constrained identity host name), if known."""
        self._sessions: dict[str, Session] = {}

    async def login(self, username: str, password: str) -> str:
        """A new session token once the node accepts the credentials; RpcError otherwise
        (RpcAuthError for wrong ones)."""
        node = ReadOnlyNode(
            RpcClient(self.rpc_address, username, password, self._ca_pem, node_name=self._node_name)
        )
        try:
            me = await node.node_info()
        except BaseException:
            await node.close()
            raise
        await self._expire()
        token = secrets.token_urlsafe(32)
        self._sessions[token] = Session(username, node, me)
        return token

    def get(self, token: str | None) -> Session | None:
        session = self._sessions.get(token) if token else None
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > SESSION_IDLE_SECONDS:
            return None
        session.last_seen = now
        return session

    async def logout(self, token: str | None) -> None:
        session = self._sessions.pop(token, None) if token else None
        if session is not None:
            await session.node.close()

    async def close(self) -> None:
        for token in list(self._sessions):
            await self.logout(token)

    async def _expire(self) -> None:
        now = time.monotonic()
        stale = [t for t, s in self._sessions.items() if now - s.last_seen > SESSION_IDLE_SECONDS]
        oldest = sorted(self._sessions, key=lambda t: self._sessions[t].last_seen)
        stale += oldest[: max(0, len(self._sessions) - MAX_SESSIONS + 1)]
        for token in set(stale):
            await self.logout(token)
