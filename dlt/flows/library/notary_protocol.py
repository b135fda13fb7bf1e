"""What a client sends a notary replica and what comes back, including errors as data.

Every type here crosses the wire, so each is a frozen model registered under a stable
``notary.*`` name. Errors are data rather than exceptions so that a replica can sign them
(a conflict is evidence) and a client can tell them apart; `NotaryException` turns one into
something a user can read and act on.
"""

from __future__ import annotations

import enum
from abc import abstractmethod
from datetime import datetime
from typing import Self

from pydantic import SerializeAsAny, field_validator, model_validator

from dlt import PLATFORM_VERSION
from dlt.crypto import InvalidSignatureError, PrivateKey, PublicKey, SecureHash
from dlt.encoding import encode, serializable
from dlt.flows.errors import FlowException
from dlt.identity import Party
from dlt.ledger import (
    FilteredTransaction,
    LedgerModel,
    SignedTransaction,
    StateRef,
    TimeWindow,
    TransactionSignature,
)

# -- requests -----------------------------------------------------------------------------


@serializable("notary.NotarisationPayload")
class NotarisationPayload(LedgerModel):
    """The transaction itself: filtered for a non-validating notary, whole for a validating one.

    Exactly one of the two is set; the constructors `non_validating` and `validating` say which.
    """

    filtered: FilteredTransaction | None = None
    signed: SignedTransaction | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.filtered is None) == (self.signed is None):
            raise ValueError(
                "a notarisation payload carries either a filtered or a signed transaction, "
                "not both and not neither"
            )
        return self

    @classmethod
    def non_validating(cls, ftx: FilteredTransaction) -> NotarisationPayload:
        return cls(filtered=ftx)

    @classmethod
    def validating(cls, stx: SignedTransaction) -> NotarisationPayload:
        return cls(signed=stx)

    @property
    def tx_id(self) -> SecureHash:
        if self.signed is not None:
            return self.signed.id
        assert self.filtered is not None  # guaranteed by _exactly_one
        return self.filtered.id


@serializable("notary.NotarisationRequest")
class NotarisationRequest(LedgerModel):
    """Who asks to notarise which transaction, consuming which states.

    The requester signs its encoding, so a replica can record and rate-limit by a proven
    identity, and the inputs and references must match the transaction's own.
    """

    tx_id: SecureHash
    requesting_party: Party
    inputs: tuple[StateRef, ...]
    references: tuple[StateRef, ...] = ()


@serializable("notary.NotarisationRequestSignature")
class NotarisationRequestSignature(LedgerModel):
    """The requester's signature over the encoded `NotarisationRequest`."""

    by: PublicKey
    signature: bytes
    platform_version: int


def sign_request(key: PrivateKey, request: NotarisationRequest) -> NotarisationRequestSignature:
    """Sign `request` with the requesting party's key (a leaf key of it, if composite)."""
    return NotarisationRequestSignature(
        by=key.public_key,
        signature=key.sign(encode(request)),
        platform_version=PLATFORM_VERSION,
    )


def verify_request_signature(
    request: NotarisationRequest, signature: NotarisationRequestSignature
) -> None:
    """Raise `NotaryException(RequestSignatureInvalid)` unless the requesting party signed it."""
    party = request.requesting_party
    if signature.by not in party.owning_key.leaf_keys:
        raise NotaryException(
            RequestSignatureInvalid(
                reason=f"the request is signed by {signature.by!r}, which is not a key of "
                f"the requesting party {party}"
            )
        )
    if not signature.by.is_valid(signature.signature, encode(request)):
        raise NotaryException(
            RequestSignatureInvalid(
                reason=f"the signature by {signature.by!r} does not verify over the request "
                f"for transaction {request.tx_id}"
            )
        )


# -- responses ----------------------------------------------------------------------------


@serializable("notary.NotarisationResponse")
class NotarisationResponse(LedgerModel):
    """The replica's signatures over the transaction id (each may carry a batch proof)."""

    signatures: tuple[TransactionSignature, ...]


# -- errors as data -----------------------------------------------------------------------


class NotaryError(LedgerModel):
    """Why a notary refused a request; carried back to the client as data."""

    @abstractmethod
    def describe(self) -> str:
        """A message for the user: what happened and what to do about it."""


class ConsumedStateKind(enum.StrEnum):
    """How the refused transaction used a state someone else had already consumed."""

    INPUT = "input"
    REFERENCE = "reference"


@serializable("notary.StateConsumptionDetails")
class StateConsumptionDetails(LedgerModel):
    """Which transaction consumed a state, and whether the refused one spent or referenced it."""

    consuming_tx_id: SecureHash
    kind: ConsumedStateKind


@serializable("notary.Conflict")
class Conflict(NotaryError):  # noqa: N818 - data, not an exception
    """Transaction `tx_id` uses states already consumed; keyed by `str(StateRef)`."""

    tx_id: SecureHash
    consumed: dict[str, StateConsumptionDetails]

    @field_validator("consumed")
    @classmethod
    def _keys_are_state_refs(
        cls, consumed: dict[str, StateConsumptionDetails]
    ) -> dict[str, StateConsumptionDetails]:
        if not consumed:
            raise ValueError("a conflict names at least one consumed state")
        for key in consumed:
            if str(StateRef.parse(key)) != key:
                raise ValueError(f"conflict key {key!r} is not a state reference TXHASH:INDEX")
        return consumed

    @property
    def consumed_states(self) -> dict[StateRef, StateConsumptionDetails]:
        return {StateRef.parse(key): details for key, details in self.consumed.items()}

    def describe(self) -> str:
        parts = []
        advice = []
        for ref, details in sorted(self.consumed.items()):
            if details.kind is ConsumedStateKind.INPUT:
                parts.append(
                    f"input {ref} was already consumed by transaction {details.consuming_tx_id}"
                )
            else:
                parts.append(
                    f"reference {ref} was consumed by transaction "
                    f"{details.consuming_tx_id} and is no longer current"
                )
        kinds = {details.kind for details in self.consumed.values()}
        if ConsumedStateKind.INPUT in kinds:
            advice.append("rebuild it from states your vault still holds unconsumed")
        if ConsumedStateKind.REFERENCE in kinds:
            advice.append("reference the latest version of each reference state")
        return (
            f"double spend: transaction {self.tx_id} was refused: {'; '.join(parts)}. "
            f"To retry, {' and '.join(advice)}."
        )


@serializable("notary.TimeWindowInvalid")
class TimeWindowInvalid(NotaryError):  # noqa: N818 - data, not an exception
    """The notary's clock read `current_time`, outside the transaction's time window."""

    current_time: datetime
    window: TimeWindow

    def describe(self) -> str:
        if self.window.from_time is not None and self.current_time < self.window.from_time:
            advice = f"it is too early: retry at or after {self.window.from_time.isoformat()}"
        else:
            advice = "the window has closed: rebuild the transaction with a later time window"
        return (
            f"the notary's time {self.current_time.isoformat()} is outside the transaction's "
            f"time window {self.window}; {advice}"
        )


@serializable("notary.TransactionInvalid")
class TransactionInvalid(NotaryError):  # noqa: N818 - data, not an exception
    """The transaction, or how it was presented, failed the notary's checks."""

    reason: str

    def describe(self) -> str:
        return f"the notary refused the transaction as invalid: {self.reason}"


@serializable("notary.RequestSignatureInvalid")
class RequestSignatureInvalid(NotaryError):  # noqa: N818 - data, not an exception
    """The request was not signed by the party it names as the requester."""

    reason: str

    def describe(self) -> str:
        return (
            f"the notary could not verify who sent the request: {self.reason}; sign the "
            "request with the requesting party's own key"
        )


@serializable("notary.WrongNotary")
class WrongNotary(NotaryError):  # noqa: N818 - data, not an exception
    """The transaction names another notary (or none) than the service it was sent to."""

    named: Party | None
    contacted: Party

    def describe(self) -> str:
        if self.named is None:
            return (
                f"the transaction names no notary but was sent to {self.contacted}; "
                "set the notary when building it"
            )
        return (
            f"the transaction names notary {self.named} but was sent to {self.contacted}; "
            f"send it to {self.named}, or move its states with a notary change first"
        )


@serializable("notary.General")
class General(NotaryError):  # noqa: N818 - data, not an exception
    """Anything else, with a message for the operator."""

    message: str

    def describe(self) -> str:
        return f"the notary could not process the request: {self.message}"


@serializable("notary.Refusal")
class Refusal(LedgerModel):
    """What a replica signs when it refuses: which transaction, and why."""

    tx_id: SecureHash
    error: SerializeAsAny[NotaryError]

    @model_validator(mode="after")
    def _conflict_is_about_this_transaction(self) -> Self:
        if isinstance(self.error, Conflict) and self.error.tx_id != self.tx_id:
            raise ValueError(
                f"a refusal of transaction {self.tx_id} carries a conflict about "
                f"transaction {self.error.tx_id}"
            )
        return self


@serializable("notary.SignedRefusal")
class SignedRefusal(LedgerModel):
    """A refusal signed by the replica that made it: evidence a client can check and count.

    Every refusal is signed, conflicts and the rest alike, so a client counts only what
    replicas provably said, once per replica, and no one can speak for a replica."""

    refusal: Refusal
    by: PublicKey
    signature: bytes

    @property
    def error(self) -> NotaryError:
        return self.refusal.error

    def verify(self, replica: Party | None = None, tx_id: SecureHash | None = None) -> NotaryError:
        """The refusal's error, once its signature checks out, is by `replica`'s key and is
        about transaction `tx_id` (each if given). Raises `InvalidSignatureError` otherwise:
        such a refusal proves nothing."""
        about = self.refusal.tx_id
        if tx_id is not None and about != tx_id:
            raise InvalidSignatureError(
                f"the refusal is about transaction {about}, not the transaction {tx_id} asked for"
            )
        if replica is not None and self.by not in replica.owning_key.leaf_keys:
            raise InvalidSignatureError(
                f"the refusal of transaction {about} is signed by {self.by!r}, which is not a "
                f"key of notary {replica}"
            )
        if not self.by.is_valid(self.signature, encode(self.refusal)):
            raise InvalidSignatureError(
                f"the refusal of transaction {about} does not carry a valid signature by "
                f"{self.by!r}"
            )
        return self.refusal.error


def sign_refusal(key: PrivateKey, tx_id: SecureHash, error: NotaryError) -> SignedRefusal:
    """Sign the refusal of `tx_id` for `error` with a replica's key."""
    refusal = Refusal(tx_id=tx_id, error=error)
    return SignedRefusal(refusal=refusal, by=key.public_key, signature=key.sign(encode(refusal)))


NotarisationResult = NotarisationResponse | SignedRefusal
"""What a replica answers: its signatures, or its signed refusal (a conflict among them)."""


class NotaryException(FlowException):
    """A notary refused a transaction; `error` says why, the message says what to do."""

    def __init__(self, error: NotaryError) -> None:
        super().__init__(error.describe())
        self.error = error
