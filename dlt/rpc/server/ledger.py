"""The vault and transaction endpoints: query the vault, read recorded transactions."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import Session

from dlt.encoding import decode
from dlt.identity import Party, X500Name
from dlt.ledger import SignedTransaction
from dlt.rpc.generated import node_pb2
from dlt.rpc.server import convert, criteria
from dlt.rpc.server.endpoints import Endpoints
from dlt.rpc.server.errors import Context, Refusal
from dlt.rpc.users import RpcUser
from dlt.vault import (
    DEFAULT_PAGE_SIZE,
    PageSpecification,
    count_transactions,
    list_transactions,
)
from dlt.vault.transaction_store import load_encoded


class LedgerEndpoints(Endpoints):
    """The service's vault and transaction methods; CamelCase names are the protocol's."""

    async def VaultQuery(  # noqa: N802
        self, request: node_pb2.VaultQueryRequest, context: Context
    ) -> node_pb2.VaultPage:
        async def work(user: RpcUser) -> node_pb2.VaultPage:
            query, sort = criteria.query_criteria(request, self._party)
            paging = PageSpecification(
                page_number=request.page_number or 1,
                page_size=request.page_size or DEFAULT_PAGE_SIZE,
            )
            page = await self._node.services.vault.query(query, paging, sort)
            response = node_pb2.VaultPage(
                total_states_available=page.total_states_available,
                page_number=page.page_number,
                page_size=page.page_size,
            )
            for sar, meta in zip(page.states, page.metadata, strict=True):
                state = response.states.add(
                    ref=str(sar.ref),
                    state_type=meta.state_type,
                    contract=meta.contract,
                    notary=meta.notary_name,
                    status=convert.STATE_STATUS_VALUES[meta.status],
                    recorded_at=convert.timestamp(meta.recorded_at),
                    consuming_tx="" if meta.consuming_tx is None else str(meta.consuming_tx),
                    lock_id=meta.lock_id or "",
                    state=self._ledger_value(sar),
                )
                if meta.consumed_at is not None:
                    state.consumed_at.CopyFrom(convert.timestamp(meta.consumed_at))
            return response

        return await self._unary(context, "VaultQuery", work)

    def _party(self, name: str, role: str) -> Party:
        """The party a query names, as this node knows it; `role` says which part named it."""
        try:
            x500 = X500Name.parse(name)
        except ValueError as exc:
            raise Refusal(
                grpc.StatusCode.INVALID_ARGUMENT, f"{role} {name!r} is not an X.500 name: {exc}"
            ) from exc
        party = self._node.services.identity.party_from_name(x500)
        if party is None:
            raise Refusal(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{role} {name!r} is not known to {self._node.name}; see `dlt network peers`",
            )
        return party

    async def GetTransaction(  # noqa: N802
        self, request: node_pb2.GetTransactionRequest, context: Context
    ) -> node_pb2.Transaction:
        async def work(user: RpcUser) -> node_pb2.Transaction:
            tx_id = convert.secure_hash(request.id, "transaction id")
            stored = await self._node.db.read(lambda s: load_encoded(s, [tx_id]))
            data = stored.get(tx_id)
            if data is None:
                raise Refusal(
                    grpc.StatusCode.NOT_FOUND, f"{self._node.name} has no transaction {tx_id}"
                )
            return self._transaction(decode(data, SignedTransaction), data)

        return await self._unary(context, "GetTransaction", work)

    async def ListTransactions(  # noqa: N802
        self, request: node_pb2.ListTransactionsRequest, context: Context
    ) -> node_pb2.TransactionPage:
        async def work(user: RpcUser) -> node_pb2.TransactionPage:
            paging = PageSpecification(
                page_number=request.page_number or 1,
                page_size=request.page_size or DEFAULT_PAGE_SIZE,
            )

            def read(session: Session) -> tuple[tuple[SignedTransaction, ...], int]:
                return list_transactions(session, paging), count_transactions(session)

            stxs, total = await self._node.db.read(read)
            return node_pb2.TransactionPage(
                transactions=[self._transaction(stx) for stx in stxs],
                total=total,
                page_number=paging.page_number,
                page_size=paging.page_size,
            )

        return await self._unary(context, "ListTransactions", work)

    def _transaction(
        self, stx: SignedTransaction, data: bytes | None = None
    ) -> node_pb2.Transaction:
        return convert.transaction(stx, self._node.services.identity.describe, data)
