"""The client side of notarisation, for one replica or a Byzantine-fault-tolerant cluster.

A cluster of n = 3f+1 replicas signs with a composite key of threshold 2f+1. The client asks
2f+1 replicas (those its node has seen answer, in a secure random order among equals), asks
the others once the first have taken a few times their usual latency, and asks the silent ones
again with backoff. It is done at 2f+1 valid signatures. It reports a double spend only when f+1
replicas sign matching conflict evidence, since up to f may lie, and fails with the names of
the unresponsive replicas when fewer than 2f+1 answer in time. Replicas never talk to each
other: two conflicting transactions cannot both gather 2f+1 signatures because the honest
replicas in any two quorums overlap, and each signs at most one of them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field

from dlt import PLATFORM_VERSION
from dlt.encoding import encode, serializable
from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_evidence import Tally
from dlt.flows.library.notary_health import NotaryHealth
from dlt.flows.library.notary_protocol import (
    NotarisationPayload,
    NotarisationRequest,
    NotarisationRequestSignature,
    NotaryException,
)
from dlt.flows.library.transactions import ChainVendor, FetchRequest
from dlt.flows.registry import flow
from dlt.identity import Party
from dlt.ledger import SignedTransaction, TransactionSignature, notary_view
from dlt.ledger.network_parameters import NotaryInfo
from dlt.ledger.states import LedgerModel


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
    """Seconds to wait for the first quorum before asking the other replicas too, while the
    node has not yet learnt how fast they answer."""
    min_wave_timeout: float = 0.25
    """The least time given the first quorum once their usual latency is known."""
    probe_after: float = 5.0
    """Seconds before a replica that missed is asked again (doubling with each miss), and
    before a notary service that stopped answering is drawn for new states again."""
    deadline: float = 30.0
    """Seconds after which notarisation fails, naming the replicas that did not answer."""
    max_backoff: float = 8.0
    resubmit_ceiling: float = 60.0
    """Most seconds between asking again for a transaction whose notarisation is in doubt
    (starting at `first_reply_timeout`, doubling)."""


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


@serializable("notary.ClientPlan")
class ClientPlan(LedgerModel):
    """How a client asks one service's replicas, decided from what its node has learnt and
    journaled, so a replay asks the same replicas in the same order."""

    order: tuple[int, ...]
    """Indices into the service's replicas: the first `quorum` are asked at once."""
    probes: tuple[int, ...] = ()
    """Suspected replicas asked alongside, to learn whether they are back."""
    wave_ms: int = Field(gt=0)
    """How long to wait for the first replicas before asking the rest."""


@flow("dlt.NotaryClient", initiating=True)
class NotaryClientFlow(FlowLogic[tuple[TransactionSignature, ...]]):
    """Have `stx`'s notary sign it. Raises NotaryException for a proven double spend or
    refusal, and NotaryUnavailableError when the notary does not reach a quorum within
    `deadline` seconds (never longer than the node's setting, which applies when None)."""

    stx: SignedTransaction
    deadline: float | None = Field(default=None, gt=0)

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
        health: NotaryHealth = self.services.notary_health
        submission = self._submission(info)
        vendor = ChainVendor(self.stx) if info.validating else None
        replicas = list(info.replica_parties)
        plan = self.remember("notary.plan", lambda: _plan(info, health, settings), ClientPlan)
        order = [replicas[index] for index in plan.order]
        live = not self.fiber.replaying
        tally = Tally(self.stx.tx, info)
        open_sessions: list[FlowSession] = []
        replica_of: dict[str, Party] = {}
        asked_at: dict[Party, float] = {}
        missed: set[Party] = set()

        async def contact(replica: Party) -> None:
            # Quiet: a replica answers once and has finished; telling it this flow ended
            # would be one more message per replica for nothing.
            session = self.initiate_flow(replica, quiet=True)
            await session.send(submission)
            open_sessions.append(session)
            replica_of[session.session_id] = replica
            asked_at.setdefault(replica, time.monotonic())

        def miss(replicas: list[Party]) -> None:
            for replica in replicas:
                if live and replica not in missed:
                    missed.add(replica)
                    health.missed(replica)

        self.step(f"Asking {info.quorum} of {len(order)} replicas of {notary.name}")
        began = time.monotonic()
        for replica in [*order[: info.quorum], *(replicas[i] for i in plan.probes)]:
            await contact(replica)
        started = self.now()
        allowed = min(self.deadline or settings.deadline, settings.deadline)
        deadline = started + timedelta(seconds=allowed)
        backoff = plan.wave_ms / 1000
        wave_at = started + timedelta(seconds=backoff)
        while not tally.done:
            now = self.now()
            if now >= deadline:
                silent = [r for r in order if r not in tally.answered]
                miss(silent)
                raise NotaryUnavailableError(notary, silent, tally.faulty)
            wait = (min(wave_at, deadline) - now).total_seconds()
            answer = await self.receive_any(open_sessions, timeout=wait) if open_sessions else None
            if answer is None:
                if not open_sessions and now < wave_at:
                    await self.sleep(wait)
                pending = [r for r in order if r not in tally.answered]
                miss([r for r in pending if r in asked_at])
                targets = [r for r in pending if r not in asked_at] or pending
                self.step(f"Asking {len(targets)} more replicas")
                self.services.metrics.notarisation_retries.inc()
                for replica in targets:
                    await contact(replica)
                backoff = min(max(backoff, settings.first_reply_timeout) * 2, settings.max_backoff)
                wave_at = self.now() + timedelta(seconds=backoff)
                continue
            session, value = answer
            if isinstance(value, FetchRequest):
                if vendor is not None and not value.done:
                    await session.send(await vendor.answer(self, session, value))
                continue
            open_sessions.remove(session)
            replica = replica_of[session.session_id]
            tally.add(replica, value)
            if replica in tally.faulty:
                miss([replica])
            elif live:
                health.answered(replica, time.monotonic() - asked_at[replica])
            conflict = tally.proven_conflict()
            if conflict is not None:
                raise NotaryException(conflict)
            refusal = tally.proven_refusal()
            if refusal is not None:
                raise NotaryException(refusal)
        miss(list(tally.refusals))
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


def _plan(info: NotaryInfo, health: NotaryHealth, settings: NotaryClientSettings) -> ClientPlan:
    """Ask the replicas expected to answer, in a secure random order among equals, so no one
    knows in advance where a request goes first; probe one suspected replica if one is due."""
    replicas = list(info.replica_parties)
    seed = secrets.token_bytes(32)
    shuffled = sorted(replicas, key=lambda p: hashlib.sha256(seed + p.owning_key.encoded).digest())
    ranked = health.ranked(replicas, shuffled)
    first = ranked[: info.quorum]
    probes = [r for r in ranked[info.quorum :] if health.probe_due(r, settings.probe_after)][:1]
    for replica in probes:
        health.probed(replica)
    # A loaded cluster answers slowly but surely: waiting up to max_backoff for replicas whose
    # latency is known keeps a slow wave from asking every other replica too.
    wave = health.wave_timeout(
        first,
        ceiling=settings.max_backoff,
        floor=settings.min_wave_timeout,
        unknown=settings.first_reply_timeout,
    )
    return ClientPlan(
        order=tuple(replicas.index(replica) for replica in ranked),
        probes=tuple(replicas.index(replica) for replica in probes),
        wave_ms=max(1, round(wave * 1000)),
    )
