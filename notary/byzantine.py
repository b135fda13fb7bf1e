"""Byzantine notary replicas: each mode replaces the honest service flow on one replica.

For attack drills and the test suites only. A replica configured with a mode answers (or
does not) as an attacker holding that replica's key, store and node would: it can sign what
it likes with its own key and send any message to anyone. The client must stay safe and live
with up to f such replicas per cluster; the attack suite shows what f + 1 of them break.
"""

from __future__ import annotations

import asyncio
import enum
import os
from dataclasses import dataclass

from dlt.crypto import SecureHash
from dlt.encoding import encode
from dlt.flows import FlowLogic, FlowSession, flow
from dlt.flows.library.notary_client import NotarySubmission
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    NotarisationResponse,
    NotaryError,
    SignedRefusal,
    StateConsumptionDetails,
    TransactionInvalid,
    sign_refusal,
)
from dlt.flows.protocol import SessionMessage, SessionMessageKind
from dlt.identity import Party
from dlt.ledger import TransactionSignature
from dlt.node.node import Node
from notary.replica import NotaryReplica
from notary.service import answer_submission
from notary.service import install_notary_service as install_honest_service

BYZANTINE_EXTENSION = "notary.byzantine"


class Mode(enum.StrEnum):
    CRASH = "crash"
    DELAY = "delay"
    DISCARD = "discard"
    GARBAGE_SIGNATURES = "garbage-signatures"
    FALSE_CONFLICT = "false-conflict"
    FORGED_REFUSAL = "forged-refusal"
    EQUIVOCATE = "equivocate"
    INJECT = "inject"


@dataclass(frozen=True)
class Behaviour:
    """A faulty replica's mode and, for `delay`, how long it holds every answer."""

    mode: Mode
    seconds: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """From the command-line form `MODE` or `delay=SECONDS`."""
        name, _, value = text.partition("=")
        try:
            mode = Mode(name.strip())
        except ValueError:
            modes = ", ".join(m.value for m in Mode)
            raise ValueError(f"unknown Byzantine mode {name!r}; choose one of {modes}") from None
        if mode is Mode.DELAY:
            try:
                seconds = float(value)
            except ValueError:
                raise ValueError(f"delay needs seconds, as delay=2.5; got {text!r}") from None
            if not 0 < seconds <= 3600:
                raise ValueError(f"a delay lies between 0 and 3600 seconds; got {seconds}")
            return cls(mode, seconds)
        if value:
            raise ValueError(f"mode {mode.value} takes no value; got {text!r}")
        return cls(mode)

    def __str__(self) -> str:
        return f"delay={self.seconds:g}" if self.mode is Mode.DELAY else self.mode.value


INJECTED_SESSIONS = 12
"""How many sibling session numbers an injecting replica writes into: session ids are
`<flow id>.<n>` and counted from 1, so a guess this wide covers every session a notary client
opens in practice."""


class _ByzantineFlow(FlowLogic[None]):
    session: FlowSession

    @property
    def behaviour(self) -> Behaviour:
        found = self.services.extensions.get(BYZANTINE_EXTENSION)
        assert isinstance(found, Behaviour), "installed by install_byzantine_replica"
        return found

    def _sign(self, tx_id: SecureHash) -> TransactionSignature:
        return self.services.keys.sign_transaction(tx_id, self.our_identity.owning_key)

    def _refuse(self, tx_id: SecureHash, error: NotaryError) -> SignedRefusal:
        return sign_refusal(
            self.services.keys.signing_key(self.our_identity.owning_key), tx_id, error
        )


@flow("notary.byzantine.Delay")
class DelayingReplica(_ByzantineFlow):
    """Answers honestly, but only after holding each request for a while."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        await asyncio.sleep(self.behaviour.seconds)
        await self.session.send(await answer_submission(self, self.session, submission))


@flow("notary.byzantine.Discard")
class DiscardingReplica(_ByzantineFlow):
    """Takes every request and never answers."""

    async def call(self) -> None:
        await self.session.receive(NotarySubmission)
        await asyncio.Event().wait()


@flow("notary.byzantine.GarbageSignatures")
class GarbageSignatureReplica(_ByzantineFlow):
    """Answers with a signature by its own key that does not verify."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        real = self._sign(submission.request.tx_id)
        forged = TransactionSignature(
            by=real.by, signature=os.urandom(len(real.signature)), metadata=real.metadata
        )
        await self.session.send(NotarisationResponse(signatures=(forged,)))


@flow("notary.byzantine.FalseConflict")
class FalseConflictReplica(_ByzantineFlow):
    """Claims, with a valid signature, that every input was spent by a transaction that does
    not exist."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        request = submission.request
        invented = SecureHash.sha256(b"never happened" + request.tx_id.bytes)
        conflict = Conflict(
            tx_id=request.tx_id,
            consumed={
                str(ref): StateConsumptionDetails(
                    consuming_tx_id=invented, kind=ConsumedStateKind.INPUT
                )
                for ref in request.inputs
            },
        )
        await self.session.send(self._refuse(request.tx_id, conflict))


@flow("notary.byzantine.ForgedRefusal")
class ForgedRefusalReplica(_ByzantineFlow):
    """Refuses every transaction as invalid, signing the refusal with its own key."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        tx_id = submission.request.tx_id
        reason = "refused by a Byzantine replica"
        await self.session.send(self._refuse(tx_id, TransactionInvalid(reason=reason)))


@flow("notary.byzantine.Equivocate")
class EquivocatingReplica(_ByzantineFlow):
    """Signs every request, conflicting ones included, without checking uniqueness."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        await self.session.send(
            NotarisationResponse(signatures=(self._sign(submission.request.tx_id),))
        )


@flow("notary.byzantine.Inject")
class InjectingReplica(_ByzantineFlow):
    """Writes signed refusals into the client's sessions with the other replicas (session ids
    are guessable), then refuses on its own session too: together they would be f + 1
    refusals if a client accepted replies by session id alone."""

    async def call(self) -> None:
        submission = await self.session.receive(NotarySubmission)
        tx_id = submission.request.tx_id
        refusal = self._refuse(tx_id, TransactionInvalid(reason="injected by a Byzantine replica"))
        flow_id, _, own = self.session.session_id.rpartition(".")
        client = self.session.counterparty.name
        payload = encode(refusal)
        for number in range(1, INJECTED_SESSIONS + 1):
            if str(number) == own:
                continue
            forged = SessionMessage(
                kind=SessionMessageKind.DATA,
                session_id=f"{flow_id}.{number}",
                from_initiator=False,
                seq=0,
                payload=payload,
            )
            await self.fiber.host.publish(client, forged)
        await self.session.send(refusal)


RESPONDERS: dict[Mode, type[FlowLogic[None]]] = {
    Mode.DELAY: DelayingReplica,
    Mode.DISCARD: DiscardingReplica,
    Mode.GARBAGE_SIGNATURES: GarbageSignatureReplica,
    Mode.FALSE_CONFLICT: FalseConflictReplica,
    Mode.FORGED_REFUSAL: ForgedRefusalReplica,
    Mode.EQUIVOCATE: EquivocatingReplica,
    Mode.INJECT: InjectingReplica,
}
"""`crash` has no responder: a crashed replica is a process that is not running."""


def byzantine_responders(behaviour: Behaviour) -> dict[str, type[FlowLogic[None]]]:
    """The responders a node with `behaviour` runs instead of the honest notary service."""
    responder = RESPONDERS.get(behaviour.mode)
    return {} if responder is None else {"dlt.NotaryClient": responder}


def install_byzantine_replica(node: Node, behaviour: Behaviour) -> None:
    """Make the notary replica `node` misbehave as `behaviour` says."""
    node.services.extensions[BYZANTINE_EXTENSION] = behaviour
    node.engine.responders.update(byzantine_responders(behaviour))


def install_notary_service(
    node: Node, *, validating: bool = False, service: Party | None = None, behaviour: str
) -> NotaryReplica:
    """The service module a faulty replica's node config names (`notary.service_module`):
    the honest replica (its key, store and clock, which a delaying replica still answers
    from), with `behaviour` (the `Behaviour.parse` text) in front of it."""
    replica = install_honest_service(node, validating=validating, service=service)
    parsed = Behaviour.parse(behaviour)
    if parsed.mode is Mode.CRASH:
        raise ValueError(
            "a crashed replica is a process that is not running: do not start it, "
            "rather than configure it with mode crash"
        )
    install_byzantine_replica(node, parsed)
    return replica
