"""Replays: old signed transactions, old P2P messages and old notarisation requests re-sent.

None may change anything: a node that already recorded a transaction records nothing new,
a session message already consumed (or for a finished flow) is dropped, and a notarisation
request whose inputs have since been consumed by another transaction gets no quorum.
"""

from __future__ import annotations

import enum

from pydantic import Field

from attacks.flows.notarising import (
    Order,
    deliver,
    notarise_orders,
    notarised,
    notary_of,
    open_notary_session,
    submission,
)
from cordapp_energy.contracts.payment import Pay
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.states import PaymentState
from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, flow
from dlt.flows.library.notary_client import NotaryClientFlow
from dlt.flows.protocol import SessionMessage
from dlt.identity import Party, X500Name
from dlt.ledger import (
    LedgerModel,
    SignedTransaction,
    StateAndRef,
    StateRef,
    TransactionBuilder,
)
from dlt.vault import load_transaction


class Replay(enum.StrEnum):
    SIGNED_TX = "signed-tx"
    """An old finalised transaction handed to its recipient again, in a new session."""
    P2P_MESSAGES = "p2p-messages"
    """The very session messages of an old delivery, published again byte for byte."""
    NOTARISATION_REQUEST = "notarisation-request"
    """A request one replica once saw, sent to all after its input was spent otherwise."""


@serializable("attack.ReplayOutcome")
class ReplayOutcome(LedgerModel):
    tx_id: SecureHash
    sent: int
    """Replays sent (deliveries, messages or requests)."""
    notarised: bool = False
    """For a replayed request: whether it gathered a quorum (the attack's success)."""
    answers: tuple[str, ...] = ()


@flow("attack.Replay", initiating=True, rpc=True)
class ReplayFlow(FlowLogic[ReplayOutcome]):
    """Replay `kind`: `tx_id` is the old transaction (signed-tx, p2p-messages), `coin` the
    coin to spend twice (notarisation-request); `times` replays."""

    kind: Replay
    victim: X500Name
    tx_id: SecureHash | None = None
    coin: StateRef | None = None
    times: int = Field(default=3, ge=1, le=100)

    async def call(self) -> ReplayOutcome:
        victim = self.services.identity.require_party(self.victim)
        if self.kind is Replay.NOTARISATION_REQUEST:
            return await self._request(victim)
        if self.tx_id is None:
            raise FlowException(f"replay {self.kind} needs tx_id")
        tx_id = self.tx_id
        old = await self.durable("attack.load", lambda s: load_transaction(s, tx_id))
        if old is None:
            raise FlowException(f"no transaction {tx_id} is known here")
        if self.kind is Replay.SIGNED_TX:
            answers = [await deliver(self, victim, old) for _ in range(self.times)]
            return ReplayOutcome(tx_id=tx_id, sent=self.times, answers=tuple(answers))
        captured = await self._capture(victim, old)
        for _ in range(self.times):
            for message in captured:
                await self.fiber.host.publish(victim.name, message)
        return ReplayOutcome(tx_id=tx_id, sent=self.times * len(captured))

    async def _capture(self, victim: Party, stx: SignedTransaction) -> list[SessionMessage]:
        """Deliver `stx` once, keeping a copy of every message this flow sent the victim."""
        host = self.fiber.host
        original = host.publish
        captured: list[SessionMessage] = []
        prefix = f"{self.flow_id}."

        async def recording(recipient: X500Name, message: SessionMessage) -> None:
            if recipient == victim.name and message.session_id.startswith(prefix):
                captured.append(message)
            await original(recipient, message)

        host.publish = recording  # type: ignore[method-assign]
        try:
            await deliver(self, victim, stx)
        finally:
            del host.publish
        return captured

    async def _request(self, accomplice: Party) -> ReplayOutcome:
        if self.coin is None:
            raise FlowException("replay notarisation-request needs coin")
        ref = self.coin
        genuine = await self.durable("attack.load", lambda s: load_transaction(s, ref.txhash))
        if genuine is None:
            raise FlowException(f"no transaction {ref.txhash} is known here")
        coin = StateAndRef(state=genuine.tx.outputs[ref.index], ref=ref)
        rules = await rules_for(self)
        first = self._spend(coin, accomplice, rules.attachment_id)
        info = notary_of(self, first)
        old = Order(first, first=(0,), then=())
        await notarise_orders(self, info, [old], timeout=5.0)
        honest = self._spend(coin, self.our_identity, rules.attachment_id)
        await self.sub_flow(NotaryClientFlow(stx=honest))
        request = submission(self, first, info)
        replicas = list(info.replica_parties)
        sessions = []
        for _ in range(self.times):
            for replica in replicas:
                session = open_notary_session(self, replica)
                await session.send(request)
                sessions.append((replica, session))
        replayed = Order(first, first=(), then=())
        replayed.start(info)
        answers = []
        for replica, session in sessions:
            answer = await self.receive_any([session], timeout=5.0)
            if answer is not None:
                replayed.tally.add(replica, answer[1])
                answers.append(type(answer[1]).__name__)
        signatures = tuple(replayed.tally.signatures.values())
        return ReplayOutcome(
            tx_id=first.id,
            sent=len(sessions),
            notarised=notarised(info, first.id, signatures),
            answers=tuple(answers),
        )

    def _spend(self, coin: StateAndRef, owner: Party, rules: SecureHash) -> SignedTransaction:
        assert isinstance(coin.state.data, PaymentState)
        builder = TransactionBuilder()
        builder.add_input_state(coin)
        builder.add_output_state(coin.state.data.with_new_owner(owner))
        builder.add_command(Pay(), self.our_identity.owning_key)
        builder.add_attachment(rules)
        return self.sign_initial(builder)
