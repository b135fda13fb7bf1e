"""Sending a transaction with its back-chain, and receiving one safely.

The receiver fetches whatever part of the chain it lacks; the sender serves only
transactions and attachments in the chain of what it sent, so a peer cannot use the
conversation to read anything else from its vault.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException, UnexpectedFlowEndError
from dlt.ledger import Attachment, SignedTransaction, StateAndRef
from dlt.ledger.states import LedgerModel
from dlt.vault.attachment_store import load_attachment
from dlt.vault.transaction_store import load_transaction

MAX_FETCH_BATCH = 100
MAX_CHAIN_LENGTH = 100_000


@serializable("flows.FetchRequest")
class FetchRequest(LedgerModel):
    """Ask for parts of a chain; an empty request ends the conversation."""

    transactions: tuple[SecureHash, ...] = Field(default=(), max_length=MAX_FETCH_BATCH)
    attachments: tuple[SecureHash, ...] = Field(default=(), max_length=MAX_FETCH_BATCH)

    @property
    def done(self) -> bool:
        return not self.transactions and not self.attachments


@serializable("flows.FetchResponse")
class FetchResponse(LedgerModel):
    transactions: tuple[SignedTransaction, ...] = ()
    attachments: tuple[Attachment, ...] = ()


def dependencies(stx: SignedTransaction) -> set[SecureHash]:
    """Transactions whose outputs `stx` consumes or references."""
    return {ref.txhash for ref in (*stx.tx.inputs, *stx.tx.references)}


class ChainVendor:
    """Answers a peer's fetch requests for the chain of what it was sent, and nothing else.

    The chain starts at `stx` (its dependencies and attachments) or at the transactions
    `roots`, and grows with the dependencies of everything served."""

    def __init__(
        self, stx: SignedTransaction | None = None, roots: tuple[SecureHash, ...] = ()
    ) -> None:
        self._transactions = set(roots)
        self._attachments: set[SecureHash] = set()
        if stx is not None:
            self._transactions |= {stx.id} | dependencies(stx)
            self._attachments |= set(stx.tx.attachments)

    async def answer(
        self, flow: FlowLogic[object], session: FlowSession, request: FetchRequest
    ) -> FetchResponse:
        refused = [h for h in request.transactions if h not in self._transactions]
        refused += [h for h in request.attachments if h not in self._attachments]
        if refused:
            raise FlowException(
                f"{session.counterparty} asked for {refused[0]}, which is not in the chain of "
                "the transaction it was sent"
            )

        def load(db: Session) -> FetchResponse:
            txs = [load_transaction(db, h) for h in request.transactions]
            atts = [load_attachment(db, h) for h in request.attachments]
            return FetchResponse(
                transactions=tuple(tx for tx in txs if tx is not None),
                attachments=tuple(a for a in atts if a is not None),
            )

        response = await flow.journaled_read("vend", load)
        for tx in response.transactions:
            self._transactions |= dependencies(tx)
            self._attachments |= set(tx.tx.attachments)
        return response


class DataVendingFlow(FlowLogic[None]):
    """Serve a peer's fetch requests for the chain of what it was sent, until it is done:
    it says so with an empty request, or by ending its flow (a receiver whose flow ends
    right after resolving sends its END alone)."""

    session: FlowSession
    stx: SignedTransaction | None = None
    roots: tuple[SecureHash, ...] = ()

    async def call(self) -> None:
        vendor = ChainVendor(self.stx, self.roots)
        while True:
            try:
                request = await self.session.receive(FetchRequest)
            except UnexpectedFlowEndError:
                return
            if request.done:
                return
            await self.session.send(await vendor.answer(self, self.session, request))


class SendTransactionFlow(FlowLogic[None]):
    """Send `stx` and serve its back-chain to the counterparty's ReceiveTransactionFlow."""

    session: FlowSession
    stx: SignedTransaction

    async def call(self) -> None:
        await self.session.send(self.stx)
        await self.sub_flow(DataVendingFlow(session=self.session, stx=self.stx))


class SendTransactionForReplyFlow(FlowLogic[Any]):
    """Send `stx`, serve its back-chain, and return the counterparty's reply, a `reply`.

    The reply says the counterparty needs nothing more, so it may come without the empty
    request before it (`FlowSession.send(..., instead_of_held_back=True)`)."""

    session: FlowSession
    stx: SignedTransaction
    reply: type

    async def call(self) -> Any:
        await self.session.send(self.stx)
        vendor = ChainVendor(self.stx)
        while True:
            value = await self.session.receive(object)
            if isinstance(value, FetchRequest):
                if value.done:
                    return await self.session.receive(self.reply)
                await self.session.send(await vendor.answer(self, self.session, value))
            elif isinstance(value, self.reply):
                return value
            else:
                raise FlowException(
                    f"{self.session.counterparty} sent a {type(value).__name__} where a "
                    f"{self.reply.__name__} or a FetchRequest was expected"
                )


class ResolveTransactionsFlow(FlowLogic[None]):
    """Fetch, verify and record the missing back-chain and attachments of `stx`, or the
    transactions `roots` with their back-chains."""

    session: FlowSession
    stx: SignedTransaction | None = None
    roots: tuple[SecureHash, ...] = ()

    async def call(self) -> None:
        services = self.services
        downloaded: dict[SecureHash, SignedTransaction] = {}
        frontier = set(self.roots) | (dependencies(self.stx) if self.stx is not None else set())
        while frontier:
            missing = await self.journaled_read(
                "resolve.missing", services.missing_transactions(sorted(frontier))
            )
            frontier = set()
            for batch in _batches(missing):
                response = await self.session.send_and_receive(
                    FetchResponse, FetchRequest(transactions=tuple(batch))
                )
                received = {tx.id: tx for tx in response.transactions}
                if set(received) != set(batch):
                    raise FlowException(
                        f"{self.session.counterparty} did not send the transactions asked for"
                    )
                downloaded.update(received)
                for tx in received.values():
                    frontier |= dependencies(tx) - downloaded.keys()
            if len(downloaded) > MAX_CHAIN_LENGTH:
                raise FlowException(f"back-chain longer than {MAX_CHAIN_LENGTH} transactions")
        chain = [*downloaded.values(), *([self.stx] if self.stx is not None else [])]
        attachments = await self._fetch_attachments({a for tx in chain for a in tx.tx.attachments})
        self.session.send_unless_ending(FetchRequest())
        ordered = _topological(downloaded)
        await services.verify_chain(ordered, attachments)
        if ordered or attachments:
            await self.durable("resolve.record", services.record_chain_unit(ordered, attachments))

    async def _fetch_attachments(self, wanted: Iterable[SecureHash]) -> list[Attachment]:
        missing = await self.journaled_read(
            "resolve.attachments", self.services.missing_attachments(sorted(wanted))
        )
        fetched: list[Attachment] = []
        for batch in _batches(missing):
            response = await self.session.send_and_receive(
                FetchResponse, FetchRequest(attachments=tuple(batch))
            )
            if {a.id for a in response.attachments} != set(batch):
                raise FlowException(
                    f"{self.session.counterparty} did not send the attachments asked for"
                )
            fetched.extend(response.attachments)
        return fetched


class ReceiveTransactionFlow(FlowLogic[SignedTransaction]):
    """Receive a transaction, resolve its chain and verify it.

    With `check_sufficient_signatures` false, signatures still present must be valid but
    required ones may be missing (the transaction is still being signed).
    """

    session: FlowSession
    check_sufficient_signatures: bool = True

    async def call(self) -> SignedTransaction:
        stx = await self.session.receive(SignedTransaction)
        await self.sub_flow(ResolveTransactionsFlow(session=self.session, stx=stx))
        allowed: Any = () if self.check_sufficient_signatures else stx.missing_signers()
        await self.services.verify(stx, allowed_missing=tuple(allowed))
        return stx


def _batches(items: list[SecureHash]) -> list[list[SecureHash]]:
    return [items[i : i + MAX_FETCH_BATCH] for i in range(0, len(items), MAX_FETCH_BATCH)]


def _topological(transactions: dict[SecureHash, SignedTransaction]) -> list[SignedTransaction]:
    """Dependencies before dependants, ties broken by id so every run agrees."""
    ordered: list[SignedTransaction] = []
    placed: set[SecureHash] = set()
    remaining = dict(sorted(transactions.items()))
    while remaining:
        ready = [
            tx_id for tx_id, tx in remaining.items() if not (dependencies(tx) & remaining.keys())
        ]
        if not ready:
            raise FlowException("the back-chain contains a cycle")
        for tx_id in ready:
            ordered.append(remaining.pop(tx_id))
            placed.add(tx_id)
    return ordered


class SendStatesFlow(FlowLogic[None]):
    """Send states for the counterparty to spend in a transaction it builds, and serve the
    chains of the transactions that created them."""

    session: FlowSession
    states: tuple[StateAndRef, ...]

    async def call(self) -> None:
        await self.session.send(list(self.states))
        roots = tuple(sorted({sar.ref.txhash for sar in self.states}))
        await self.sub_flow(DataVendingFlow(session=self.session, roots=roots))


class ReceiveStatesFlow(FlowLogic[tuple[StateAndRef, ...]]):
    """Receive states from SendStatesFlow and check them against their resolved chains: a
    peer cannot offer a state that does not exist or that it describes wrongly."""

    session: FlowSession

    async def call(self) -> tuple[StateAndRef, ...]:
        states = await self.session.receive(list)
        if not all(isinstance(sar, StateAndRef) for sar in states):
            raise FlowException(f"{self.session.counterparty} sent something other than states")
        roots = tuple(sorted({sar.ref.txhash for sar in states}))
        await self.sub_flow(ResolveTransactionsFlow(session=self.session, roots=roots))
        stored = await self.journaled_read(
            "states.check",
            lambda s: [self.services.lookup(s).load_state(sar.ref) for sar in states],
        )
        for sar, state in zip(states, stored, strict=True):
            if state != sar.state:
                raise FlowException(
                    f"{self.session.counterparty} described state {sar.ref} wrongly"
                )
        return tuple(states)
