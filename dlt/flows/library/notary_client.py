"""The client side of notarisation, for one replica or a Byzantine-fault-tolerant cluster.

A cluster of n = 3f+1 replicas signs with a composite key of threshold 2f+1. The client asks
a random 2f+1 replicas, asks the others after a timeout, and asks the silent ones again with
backoff. It is done at 2f+1 valid signatures. It reports a double spend only when f+1
replicas sign matching conflict evidence, since up to f may lie, and fails with the names of
the unresponsive replicas when fewer than 2f+1 answer in time. Replicas never talk to each
other: two conflicting transactions cannot both gather 2f+1 signatures because the honest
replicas in any two quorums overlap, and each signs at most one of them.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dlt import PLATFORM_VERSION
from dlt.crypto import InvalidSignatureError, PublicKey, SecureHash
from dlt.encoding import encode, serializable
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
    NotarisationResponse,
    NotaryError,
    NotaryException,
    SignedRefusal,
    StateConsumptionDetails,
)
from dlt.flows.library.transactions import ChainVendor, FetchRequest
from dlt.flows.registry import flow
from dlt.identity import Party
from dlt.ledger import (
    InvalidTransactionSignatureError,
    SignedTransaction,
    TransactionSignature,
    WireTransaction,
    notary_view,
)
from dlt.ledger.states import LedgerModel
from dlt.node.node_info import NotaryInfo


@serializable("notary.Submission")
class NotarySubmission(LedgerModel):
    """One notarisation request as sent: who asks, their signature, and the transaction."""

    request: NotarisationRequest
    signature: NotarisationRequestSignature
    payload: NotarisationPayload


@dataclass(frozen=True)
class NotaryClientSettings:
    """How long to wait for replicas; tests and slow networks change these."""

    first_reply_timeout: float = 2.0
    """Seconds to wait for the first quorum before asking the other replicas too."""
    deadline: float = 30.0
    """Seconds after which notarisation fails, naming the replicas that did not answer."""
    max_backoff: float = 8.0


class NotaryUnavailableError(FlowException):
    """Fewer than a quorum of the notary's replicas answered in time; nothing was decided."""

    def __init__(self, notary: Party, unresponsive: list[Party], faulty: dict[Party, str]) -> None:
        silent = ", ".join(str(p.name) for p in unresponsive) or "none"
        wrong = "; ".join(f"{p.name}: {why}" for p, why in faulty.items()) or "none"
        super().__init__(
            f"notary {notary.name} did not reach a quorum in time; unresponsive replicas: "
            f"{silent}; replicas with invalid answers: {wrong}. The transaction is not "
            "notarised; retry later or choose another notary for new states"
        )
        self.notary = notary
        self.unresponsive = unresponsive
        self.faulty = faulty


def needs_notarisation(stx: SignedTransaction) -> bool:
    """A notary must sign when states are consumed or referenced, or a time window is set."""
    tx = stx.tx
    return bool(tx.inputs or tx.references or tx.time_window is not None)


@dataclass
class _Tally:
    """What the replicas said. Only verified signatures and signed refusals count, and each
    replica counts once, whichever session it answered on and however often."""

    tx: WireTransaction
    info: NotaryInfo
    signatures: dict[PublicKey, TransactionSignature] = field(default_factory=dict)
    refusals: dict[Party, NotaryError] = field(default_factory=dict)
    """The first valid refusal of each replica."""
    answered: set[Party] = field(default_factory=set)
    faulty: dict[Party, str] = field(default_factory=dict)

    @property
    def tx_id(self) -> SecureHash:
        return self.tx.id

    @property
    def threshold(self) -> int:
        """Distinct replicas whose matching refusals cannot all be faulty: f+1."""
        return self.info.fault_tolerance + 1

    @property
    def done(self) -> bool:
        return self.info.identity.owning_key.is_fulfilled_by(self.signatures.keys())

    def add(self, replica: Party, answer: Any) -> None:
        self.answered.add(replica)
        if isinstance(answer, NotarisationResponse):
            self._signatures(replica, answer)
        elif isinstance(answer, SignedRefusal):
            self._refusal(replica, answer)
        elif isinstance(answer, FlowException):
            self.faulty[replica] = str(answer)
        else:
            self.faulty[replica] = f"answered with a {type(answer).__name__}"

    def _signatures(self, replica: Party, response: NotarisationResponse) -> None:
        for signature in response.signatures:
            if signature.by not in replica.owning_key.leaf_keys:
                self.faulty[replica] = f"signed with a key that is not its own ({signature.by!r})"
                return
            try:
                signature.verify(self.tx_id)
            except InvalidTransactionSignatureError as exc:
                self.faulty[replica] = str(exc)
                return
            self.signatures[signature.by] = signature

    def _refusal(self, replica: Party, signed: SignedRefusal) -> None:
        try:
            error = signed.verify(replica, self.tx_id)
        except InvalidSignatureError as exc:
            self.faulty[replica] = str(exc)
            return
        if isinstance(error, Conflict):
            irrelevant = _irrelevant_conflict(self.tx, error)
            if irrelevant is not None:
                self.faulty[replica] = irrelevant
                return
        self.refusals.setdefault(replica, error)

    def proven_conflict(self) -> Conflict | None:
        """The conflicts f+1 distinct replicas agree on, state by state and consumer by
        consumer; a claim fewer replicas make may be a lie and is left out."""
        votes: dict[tuple[str, SecureHash], set[Party]] = defaultdict(set)
        details: dict[tuple[str, SecureHash], StateConsumptionDetails] = {}
        for replica, error in self.refusals.items():
            if isinstance(error, Conflict):
                for ref, consumption in error.consumed.items():
                    votes[(ref, consumption.consuming_tx_id)].add(replica)
                    details[(ref, consumption.consuming_tx_id)] = consumption
        proven = {
            ref: details[(ref, consumer)]
            for (ref, consumer), replicas in sorted(votes.items())
            if len(replicas) >= self.threshold
        }
        return Conflict(tx_id=self.tx_id, consumed=proven) if proven else None

    def proven_refusal(self) -> NotaryError | None:
        """A refusal of one kind that f+1 distinct replicas made."""
        by_kind: dict[str, list[NotaryError]] = defaultdict(list)
        for error in self.refusals.values():
            if not isinstance(error, Conflict):
                by_kind[type(error).__name__].append(error)
        for errors in by_kind.values():
            if len(errors) >= self.threshold:
                return errors[0]
        return None


def _irrelevant_conflict(tx: WireTransaction, conflict: Conflict) -> str | None:
    """Why `conflict` proves nothing about `tx`, or None: it must name only inputs and
    references of `tx`, each consumed by a transaction other than `tx`."""
    used = {ref: ConsumedStateKind.INPUT for ref in tx.inputs}
    used.update({ref: ConsumedStateKind.REFERENCE for ref in tx.references})
    for ref, details in conflict.consumed_states.items():
        kind = used.get(ref)
        if kind is None:
            return f"reported a conflict on {ref}, which transaction {tx.id} does not use"
        if details.kind is not kind:
            uses = "an input" if kind is ConsumedStateKind.INPUT else "a reference"
            return (
                f"reported a conflict on {ref} as a {details.kind.value}, but transaction "
                f"{tx.id} uses it as {uses}"
            )
        if details.consuming_tx_id == tx.id:
            return f"reported transaction {tx.id} as conflicting with itself over {ref}"
    return None


@flow("dlt.NotaryClient", initiating=True)
class NotaryClientFlow(FlowLogic[tuple[TransactionSignature, ...]]):
    """Have `stx`'s notary sign it. Raises NotaryException for a proven double spend or
    refusal, and NotaryUnavailableError when the notary does not reach a quorum in time."""

    stx: SignedTransaction

    async def call(self) -> tuple[TransactionSignature, ...]:
        tx = self.stx.tx
        notary = tx.notary
        if notary is None:
            raise FlowException(f"transaction {self.stx.id} names no notary")
        info = self.services.network_map.notary(notary)
        if info is None:
            raise FlowException(
                f"{notary} is not a notary on this network; pick one of "
                f"{', '.join(str(n.name) for n in self.services.network_map.notary_identities)}"
            )
        settings: NotaryClientSettings = self.services.notary_client
        submission = self._submission(info)
        vendor = ChainVendor(self.stx) if info.validating else None
        order = self._random_order(list(info.replica_parties))
        tally = _Tally(self.stx.tx, info)
        open_sessions: list[FlowSession] = []
        replica_of: dict[str, Party] = {}
        contacted: set[Party] = set()

        async def contact(replica: Party) -> None:
            session = self.initiate_flow(replica)
            await session.send(submission)
            open_sessions.append(session)
            replica_of[session.session_id] = replica
            contacted.add(replica)

        self.step(f"Asking {info.quorum} of {len(order)} replicas of {notary.name}")
        began = time.monotonic()
        for replica in order[: info.quorum]:
            await contact(replica)
        started = self.now()
        deadline = started + timedelta(seconds=settings.deadline)
        wave_at = started + timedelta(seconds=settings.first_reply_timeout)
        backoff = settings.first_reply_timeout
        while not tally.done:
            now = self.now()
            if now >= deadline:
                silent = [r for r in order if r not in tally.answered]
                raise NotaryUnavailableError(notary, silent, tally.faulty)
            wait = (min(wave_at, deadline) - now).total_seconds()
            answer = await self.receive_any(open_sessions, timeout=wait) if open_sessions else None
            if answer is None:
                if not open_sessions and now < wave_at:
                    await self.sleep(wait)
                pending = [r for r in order if r not in tally.answered]
                targets = [r for r in pending if r not in contacted] or pending
                self.step(f"Asking {len(targets)} more replicas")
                self.services.metrics.notarisation_retries.inc()
                for replica in targets:
                    await contact(replica)
                backoff = min(backoff * 2, settings.max_backoff)
                wave_at = self.now() + timedelta(seconds=backoff)
                continue
            session, value = answer
            if isinstance(value, FetchRequest):
                if vendor is not None and not value.done:
                    await session.send(await vendor.answer(self, session, value))
                continue
            open_sessions.remove(session)
            tally.add(replica_of[session.session_id], value)
            conflict = tally.proven_conflict()
            if conflict is not None:
                raise NotaryException(conflict)
            refusal = tally.proven_refusal()
            if refusal is not None:
                raise NotaryException(refusal)
        self.services.metrics.notarisation_seconds.observe(time.monotonic() - began)
        return tuple(tally.signatures.values())

    def _submission(self, info: NotaryInfo) -> NotarySubmission:
        tx = self.stx.tx
        request = NotarisationRequest(
            tx_id=self.stx.id,
            requesting_party=self.our_identity,
            inputs=tx.inputs,
            references=tx.references,
        )
        our_key = self.our_identity.owning_key
        signature = NotarisationRequestSignature(
            by=our_key,
            signature=self.services.keys.sign(encode(request), our_key),
            platform_version=PLATFORM_VERSION,
        )
        payload = (
            NotarisationPayload.validating(self.stx)
            if info.validating
            else NotarisationPayload.non_validating(notary_view(tx))
        )
        return NotarySubmission(request=request, signature=signature, payload=payload)

    def _random_order(self, replicas: list[Party]) -> list[Party]:
        """The replicas in a secure random order (journaled), so no one knows in advance
        which ones a request goes to first."""
        seed = self.random_bytes(32)
        return sorted(replicas, key=lambda p: hashlib.sha256(seed + p.owning_key.encoded).digest())
