"""Talking to notary replicas the way an attacker would: chosen replicas, chosen order.

The honest `NotaryClientFlow` picks replicas itself; an attacker speaks the same protocol
(its sessions are opened under the notary client's protocol name, so replicas run their
ordinary service for them) but decides who hears what, and when.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dlt import PLATFORM_VERSION
from dlt.crypto import InvalidSignatureError
from dlt.encoding import encode
from dlt.flows import FlowException, FlowLogic, FlowSession
from dlt.flows.library.notary_client import NotaryClientFlow, NotarySubmission
from dlt.flows.library.notary_evidence import Tally
from dlt.flows.library.notary_protocol import (
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
)
from dlt.identity import Party
from dlt.ledger import (
    InvalidTransactionSignatureError,
    SignedTransaction,
    TransactionSignature,
    notary_view,
)
from dlt.ledger.network_parameters import NotaryInfo


def submission(flow: FlowLogic[Any], stx: SignedTransaction, info: NotaryInfo) -> NotarySubmission:
    """The request `flow`'s node signs for `stx`, as the honest client would send it."""
    tx = stx.tx
    request = NotarisationRequest(
        tx_id=stx.id,
        requesting_party=flow.our_identity,
        inputs=tx.inputs,
        references=tx.references,
    )
    key = flow.our_identity.owning_key
    signature = NotarisationRequestSignature(
        by=key,
        signature=flow.services.keys.sign(encode(request), key),
        platform_version=PLATFORM_VERSION,
    )
    payload = (
        NotarisationPayload.validating(stx)
        if info.validating
        else NotarisationPayload.non_validating(notary_view(tx))
    )
    return NotarySubmission(request=request, signature=signature, payload=payload)


def open_notary_session(flow: FlowLogic[Any], replica: Party) -> FlowSession:
    """A session to `replica` under the notary client's protocol, whichever flow opens it."""
    return flow.fiber.open_session(NotaryClientFlow.model_construct(), replica)


def notary_of(flow: FlowLogic[Any], stx: SignedTransaction) -> NotaryInfo:
    notary = stx.tx.notary
    info = None if notary is None else flow.services.network_map.notary(notary)
    if info is None:
        raise FlowException(f"transaction {stx.id} names no notary of this network")
    return info


@dataclass
class Order:
    """One transaction to notarise: asked first of `first`, then of `then`."""

    stx: SignedTransaction
    first: tuple[int, ...]
    then: tuple[int, ...]
    tally: Tally = field(init=False)

    def start(self, info: NotaryInfo) -> None:
        self.tally = Tally(self.stx.tx, info)


async def notarise_orders(
    flow: FlowLogic[Any], info: NotaryInfo, orders: Sequence[Order], timeout: float
) -> None:
    """Ask every order's `first` replicas at once, wait (at most `timeout` s) for them, then
    ask its `then` replicas and wait again. Each order's tally holds what came back."""
    replicas = list(info.replica_parties)
    for order in orders:
        order.start(info)
    for phase in ("first", "then"):
        waiting: dict[str, tuple[Order, Party, FlowSession]] = {}
        for order in orders:
            message = submission(flow, order.stx, info)
            for index in getattr(order, phase):
                session = open_notary_session(flow, replicas[index])
                await session.send(message)
                waiting[session.session_id] = (order, replicas[index], session)
        deadline = time.monotonic() + timeout
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            answer = await flow.receive_any([s for _, _, s in waiting.values()], timeout=left)
            if answer is None:
                break
            session, value = answer
            order, replica, _ = waiting.pop(session.session_id)
            order.tally.add(replica, value)


def notarised(info: NotaryInfo, stx_id: Any, signatures: Sequence[TransactionSignature]) -> bool:
    """Whether `signatures` are a quorum of valid replica signatures over `stx_id`: what any
    node checks before it accepts a transaction as notarised."""
    leaves = info.identity.owning_key.leaf_keys
    valid = set()
    for signature in signatures:
        if signature.by not in leaves:
            continue
        try:
            signature.verify(stx_id)
        except (InvalidTransactionSignatureError, InvalidSignatureError):
            continue
        valid.add(signature.by)
    return info.identity.owning_key.is_fulfilled_by(valid)


ACCEPTED = ""
"""What `deliver` returns when the victim ended its flow without an error."""


async def deliver(
    flow: FlowLogic[Any], victim: Party, stx: SignedTransaction, wait: float = 20.0
) -> str:
    """Hand `stx` to `victim` as the honest payment flow does at finality (the victim runs its
    ordinary ReceiveFinalityFlow); return the victim's refusal, or ACCEPTED."""
    from cordapp_energy.flows.payments import PayFlow
    from dlt.flows.errors import UnexpectedFlowEndError
    from dlt.flows.library.transactions import SendTransactionFlow

    session = flow.fiber.open_session(PayFlow.model_construct(), victim)
    try:
        await flow.sub_flow(SendTransactionFlow(session=session, stx=stx))
    except FlowException as refused:
        return str(refused) or type(refused).__name__
    answer = await flow.receive_any([session], timeout=wait)
    if answer is None:
        return f"{victim.name} answered nothing within {wait:g} s"
    _, value = answer
    if isinstance(value, UnexpectedFlowEndError):
        return ACCEPTED
    return str(value) if isinstance(value, FlowException) else f"sent a {type(value).__name__}"
