"""The double-spend race: two colluding nodes send conflicting spends of the same state to
disjoint sets of replicas at once, then each asks the rest, hoping both gather a quorum.

The attacker spends each state twice, to its accomplice and to itself, and hands the second
spend to the accomplice, which notarises it from its own node; the replicas each asks first
are a random split of the cluster. With at most f faulty replicas no state may end with two
notarised spends: any two quorums of 2f + 1 share an honest replica, which signs only one.
"""

from __future__ import annotations

import random

from pydantic import Field

from attacks.flows.notarising import Order, notarise_orders, notarised, notary_of
from cordapp_energy.contracts.energy import Transfer
from cordapp_energy.contracts.payment import Pay
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.states import EnergyState
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, FlowSession, flow, responder
from dlt.identity import Party, X500Name
from dlt.ledger import (
    LedgerModel,
    SignedTransaction,
    StateAndRef,
    StateRef,
    TransactionBuilder,
    TransactionSignature,
)
from dlt.vault import load_transaction

MAX_REFS = 200
"""States one race flow spends twice each; the runner sends more in several flows."""


@serializable("attack.RaceOrder")
class RaceOrder(LedgerModel):
    stx: SignedTransaction
    first: tuple[int, ...]
    then: tuple[int, ...]


@serializable("attack.RaceOrders")
class RaceOrders(LedgerModel):
    """What the attacker asks its accomplice to notarise, and how long to wait per phase."""

    orders: tuple[RaceOrder, ...]
    timeout_ms: int


@serializable("attack.RaceSignatures")
class RaceSignatures(LedgerModel):
    signatures: tuple[TransactionSignature, ...]


@serializable("attack.RaceReport")
class RaceReport(LedgerModel):
    """The replica signatures the accomplice gathered, order by order."""

    results: tuple[RaceSignatures, ...]


@serializable("attack.RaceOutcome")
class RaceOutcome(LedgerModel):
    """How the race went: states with both spends notarised are the attacker's success."""

    attempts: int
    double_notarised: tuple[StateRef, ...]
    """States both of whose spends gathered a quorum of valid signatures."""
    single: int
    neither: int
    """States neither spend of which was notarised: the attacker burnt its own state."""


@flow("attack.RaceSpend", initiating=True, rpc=True)
class RaceSpendFlow(FlowLogic[RaceOutcome]):
    """Spend each state at `refs` twice, racing `accomplice` through disjoint replicas."""

    refs: tuple[StateRef, ...] = Field(min_length=1, max_length=MAX_REFS)
    accomplice: X500Name
    seed: int
    timeout_ms: int = Field(default=3_000, gt=0, le=60_000)

    async def call(self) -> RaceOutcome:
        accomplice = self.services.identity.require_party(self.accomplice)
        installed = await rules_for(self)
        rng = random.Random(self.seed)
        ours: list[Order] = []
        theirs: list[RaceOrder] = []
        info = None
        for ref in self.refs:
            spent = await self._state(ref)
            to_accomplice = self._spend(spent, accomplice, installed.attachment_id)
            to_us = self._spend(spent, self.our_identity, installed.attachment_id)
            info = notary_of(self, to_accomplice)
            first, then = _split(len(info.replica_parties), rng)
            ours.append(Order(to_accomplice, first, then))
            theirs.append(RaceOrder(stx=to_us, first=then or first, then=first if then else ()))
        assert info is not None  # refs is never empty
        self.step(f"Racing {len(ours)} double spends with {accomplice.name}")
        session = self.initiate_flow(accomplice)
        await session.send(RaceOrders(orders=tuple(theirs), timeout_ms=self.timeout_ms))
        await notarise_orders(self, info, ours, self.timeout_ms / 1000)
        report = await session.receive(RaceReport)
        if len(report.results) != len(theirs):
            raise FlowException("the accomplice answered for a different number of spends")
        doubles: list[StateRef] = []
        single = neither = 0
        for ref, order, their_order, result in zip(
            self.refs, ours, theirs, report.results, strict=True
        ):
            done = [order.tally.done, notarised(info, their_order.stx.id, result.signatures)]
            if all(done):
                doubles.append(ref)
            elif any(done):
                single += 1
            else:
                neither += 1
        return RaceOutcome(
            attempts=len(self.refs), double_notarised=tuple(doubles), single=single, neither=neither
        )

    async def _state(self, ref: StateRef) -> StateAndRef:
        stx = await self.durable("attack.load", lambda s: load_transaction(s, ref.txhash))
        if stx is None or ref.index >= len(stx.tx.outputs):
            raise FlowException(f"no state {ref} is known here")
        return StateAndRef(state=stx.tx.outputs[ref.index], ref=ref)

    def _spend(self, spent: StateAndRef, owner: Party, rules: object) -> SignedTransaction:
        builder = TransactionBuilder()
        builder.add_input_state(spent)
        builder.add_output_state(spent.state.data.with_new_owner(owner))
        command = Transfer() if isinstance(spent.state.data, EnergyState) else Pay()
        builder.add_command(command, self.our_identity.owning_key)
        builder.add_attachment(rules)
        return self.sign_initial(builder)


@responder(RaceSpendFlow)
class RaceAccompliceFlow(FlowLogic[None]):
    """The accomplice: notarise what the attacker hands over, report the signatures."""

    session: FlowSession

    async def call(self) -> None:
        orders = await self.session.receive(RaceOrders)
        if not orders.orders:
            await self.session.send(RaceReport(results=()))
            return
        info = notary_of(self, orders.orders[0].stx)
        ours = [Order(o.stx, o.first, o.then) for o in orders.orders]
        await notarise_orders(self, info, ours, orders.timeout_ms / 1000)
        await self.session.send(
            RaceReport(
                results=tuple(
                    RaceSignatures(signatures=tuple(o.tally.signatures.values())) for o in ours
                )
            )
        )


def _split(replicas: int, rng: random.Random) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A random split of the replicas into two non-empty sets: who hears which spend first."""
    if replicas == 1:
        return (0,), ()
    indices = list(range(replicas))
    rng.shuffle(indices)
    cut = rng.randint(1, replicas - 1)
    return tuple(indices[:cut]), tuple(indices[cut:])
