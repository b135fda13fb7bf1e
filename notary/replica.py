"""One notary replica: checks a request, commits its inputs, signs the transaction id.

The replica is transport-free: the notary service flow hands it a request and sends back what
`process` returns. Concurrent requests share database commits and signatures (see `batching`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dlt.crypto import PrivateKey
from dlt.flows.library.notary_protocol import (
    Conflict,
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
    NotarisationResponse,
    NotarisationResult,
    NotaryException,
    TransactionInvalid,
    WrongNotary,
    sign_refusal,
    verify_request_signature,
)
from dlt.identity import Party
from dlt.ledger import (
    ComponentGroup,
    FilteredTransaction,
    FilteredTransactionError,
    LedgerError,
    SignedTransaction,
    StateRef,
    TimeWindow,
)
from dlt.node.metrics import NodeMetrics
from notary.batching import BatchSigner, Coalescer
from notary.uniqueness import (
    Clock,
    Committed,
    UniquenessProvider,
    UniquenessRequest,
    UniquenessResult,
    utc_now,
)

TransactionVerifier = Callable[[SignedTransaction], Awaitable[None]]
"""Resolves and verifies a whole transaction and its back-chain; raises `LedgerError` if invalid."""

_NOTARY_VIEW_GROUPS = (
    ComponentGroup.INPUTS,
    ComponentGroup.REFERENCES,
    ComponentGroup.TIMEWINDOW,
    ComponentGroup.NOTARY,
)


class NotaryConfigurationError(ValueError):
    """A replica was set up in a way that could never notarise correctly."""


@dataclass(frozen=True)
class _Claim:
    """What the replica learnt from the payload: the parts uniqueness depends on."""

    inputs: tuple[StateRef, ...]
    references: tuple[StateRef, ...]
    time_window: TimeWindow | None
    notary: Party | None


class NotaryReplica:
    """A single replica of notary `service`, signing with `key` (a leaf of the service key)."""

    def __init__(
        self,
        key: PrivateKey,
        service: Party,
        provider: UniquenessProvider,
        clock: Clock = utc_now,
        *,
        validating: bool = False,
        verify_transaction: TransactionVerifier | None = None,
        max_batch: int = 1024,
        metrics: NodeMetrics | None = None,
    ) -> None:
        if key.public_key not in service.owning_key.leaf_keys:
            raise NotaryConfigurationError(
                f"replica key {key.public_key!r} is not a key of notary service {service}; "
                "configure the replica with its own share of the service identity"
            )
        if validating and verify_transaction is None:
            raise NotaryConfigurationError(
                "a validating notary needs verify_transaction to resolve and check back-chains"
            )
        self.key = key
        self.service = service
        self.provider = provider
        self.validating = validating
        self._verify_transaction = verify_transaction
        self.metrics = metrics or NodeMetrics()

        async def commit_batch(requests: list[UniquenessRequest]) -> list[UniquenessResult]:
            self.metrics.notary_batch_size.observe(len(requests))
            return await provider.commit_many(requests, clock)

        self._committer: Coalescer[UniquenessRequest, UniquenessResult] = Coalescer(
            commit_batch, max_batch
        )
        self._signer = BatchSigner(key, max_batch)

    async def process(
        self,
        request: NotarisationRequest,
        payload: NotarisationPayload,
        request_signature: NotarisationRequestSignature,
    ) -> NotarisationResult:
        """Notarise, or say why not.

        Returns signatures, or a refusal (a conflict or another `NotaryError`) signed with the
        replica's key. Raises only when the replica itself failed (its database, say); the
        request may then be sent again.
        """
        try:
            verify_request_signature(request, request_signature)
            claim = await self._claim(request, payload)
            self._check_notary(claim)
            self._check_matches_request(request, claim)
            uniqueness = _uniqueness_request(request, claim)
        except NotaryException as refused:
            return sign_refusal(self.key, request.tx_id, refused.error)
        finally:
            self.metrics.notary_requests.inc()
        began = time.monotonic()
        result = await self._committer.submit(uniqueness)
        self.metrics.notary_commit_seconds.observe(time.monotonic() - began)
        if isinstance(result, Committed):
            self.metrics.notary_commits.inc()
            signature = await self._signer.sign(request.tx_id)
            return NotarisationResponse(signatures=(signature,))
        if isinstance(result, Conflict):
            self.metrics.notary_conflicts.inc()
        return sign_refusal(self.key, request.tx_id, result)

    async def _claim(self, request: NotarisationRequest, payload: NotarisationPayload) -> _Claim:
        if payload.tx_id != request.tx_id:
            raise _invalid(
                f"the request is for transaction {request.tx_id} but the payload carries "
                f"transaction {payload.tx_id}"
            )
        if payload.signed is not None:
            return await self._validate(payload.signed)
        assert payload.filtered is not None  # NotarisationPayload holds exactly one
        if self.validating:
            raise _invalid(
                f"notary {self.service} is validating: send the whole signed transaction "
                f"{request.tx_id}, not a filtered one"
            )
        return _filtered_claim(payload.filtered)

    async def _validate(self, stx: SignedTransaction) -> _Claim:
        """A validating replica checks signatures and the back-chain; any replica reads parts."""
        if self.validating:
            assert self._verify_transaction is not None  # required by __init__
            try:
                stx.verify_signatures(allowed_to_be_missing=[self.service.owning_key])
                await self._verify_transaction(stx)
            except (LedgerError, ValueError) as exc:
                raise _invalid(str(exc)) from exc
        tx = stx.tx
        return _Claim(tx.inputs, tx.references, tx.time_window, tx.notary)

    def _check_notary(self, claim: _Claim) -> None:
        if claim.notary != self.service:
            raise NotaryException(WrongNotary(named=claim.notary, contacted=self.service))

    @staticmethod
    def _check_matches_request(request: NotarisationRequest, claim: _Claim) -> None:
        if request.inputs != claim.inputs or request.references != claim.references:
            raise _invalid(
                f"the request for transaction {request.tx_id} lists inputs "
                f"{_refs(request.inputs)} and references {_refs(request.references)}, but the "
                f"transaction has inputs {_refs(claim.inputs)} and references "
                f"{_refs(claim.references)}"
            )


def _filtered_claim(ftx: FilteredTransaction) -> _Claim:
    """Prove the filtered transaction hides nothing the notary must see."""
    try:
        ftx.verify()
        for group in _NOTARY_VIEW_GROUPS:
            ftx.check_complete(group)
        return _Claim(ftx.inputs, ftx.references, ftx.time_window, ftx.notary)
    except FilteredTransactionError as exc:
        raise _invalid(str(exc)) from exc


def _uniqueness_request(request: NotarisationRequest, claim: _Claim) -> UniquenessRequest:
    try:
        return UniquenessRequest(
            tx_id=request.tx_id,
            inputs=claim.inputs,
            references=claim.references,
            time_window=claim.time_window,
            requester=request.requesting_party,
        )
    except ValueError as exc:
        raise _invalid(str(exc)) from exc


def _invalid(reason: str) -> NotaryException:
    return NotaryException(TransactionInvalid(reason=reason))


def _refs(refs: tuple[StateRef, ...]) -> str:
    return "[" + ", ".join(str(ref) for ref in refs) + "]" if refs else "none"
