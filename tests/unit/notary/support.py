"""Transactions, requests and clocks for notary tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dlt.crypto import SecureHash
from dlt.flows.library.notary_protocol import (
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
    sign_request,
)
from dlt.identity import Party
from dlt.ledger import (
    AlwaysAcceptAttachmentConstraint,
    Command,
    SignedTransaction,
    StateRef,
    TimeWindow,
    TransactionState,
    WireTransaction,
    notary_view,
)
from dlt.ledger.components import new_privacy_salt
from dlt.testing import TestIdentity
from fixtures.ledger import ALICE, ISSUER, NOTARY
from notary.uniqueness import UniquenessRequest
from sample_cordapp import TOKEN_CONTRACT, TokenMove, TokenState

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WITHIN_AN_HOUR = TimeWindow.between(NOW - timedelta(minutes=30), NOW + timedelta(minutes=30))
CLOSED_AN_HOUR_AGO = TimeWindow.between(NOW - timedelta(hours=2), NOW - timedelta(hours=1))


def fixed_clock() -> datetime:
    return NOW


def state(n: int) -> StateRef:
    """A distinct state reference per `n`."""
    return StateRef(txhash=SecureHash.sha256(f"state {n}".encode()), index=n % 4)


def make_tx(
    inputs: Sequence[StateRef] = (),
    references: Sequence[StateRef] = (),
    time_window: TimeWindow | None = None,
    notary: Party = NOTARY.party,
) -> WireTransaction:
    """A token move spending `inputs`; a fresh salt makes every call a new transaction."""
    output = TransactionState(
        data=TokenState(issuer=ISSUER.party, owner=ALICE.party, amount=10),
        contract=TOKEN_CONTRACT,
        notary=notary,
        constraint=AlwaysAcceptAttachmentConstraint(),
    )
    return WireTransaction.create(
        inputs=inputs,
        references=references,
        outputs=[output],
        commands=[Command(value=TokenMove(), signers=(ALICE.public_key,))],
        notary=notary,
        time_window=time_window,
        privacy_salt=new_privacy_salt(),
    )


@dataclass(frozen=True)
class Submission:
    """Everything a client sends a replica for one transaction."""

    request: NotarisationRequest
    payload: NotarisationPayload
    signature: NotarisationRequestSignature

    def args(self) -> tuple[NotarisationRequest, NotarisationPayload, NotarisationRequestSignature]:
        return self.request, self.payload, self.signature


def submission(
    tx: WireTransaction,
    requester: TestIdentity = ALICE,
    payload: NotarisationPayload | None = None,
) -> Submission:
    """A correctly signed non-validating request for `tx` (or for `payload`, if given)."""
    request = NotarisationRequest(
        tx_id=tx.id,
        requesting_party=requester.party,
        inputs=tx.inputs,
        references=tx.references,
    )
    return Submission(
        request=request,
        payload=payload or NotarisationPayload.non_validating(notary_view(tx)),
        signature=sign_request(requester.key, request),
    )


def validating_submission(stx: SignedTransaction, requester: TestIdentity = ALICE) -> Submission:
    return submission(stx.tx, requester, NotarisationPayload.validating(stx))


def uniqueness_request(tx: WireTransaction, requester: TestIdentity = ALICE) -> UniquenessRequest:
    return UniquenessRequest(
        tx_id=tx.id,
        inputs=tx.inputs,
        references=tx.references,
        time_window=tx.time_window,
        requester=requester.party,
    )
