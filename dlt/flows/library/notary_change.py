"""Choosing a notary at random, and moving states from one notary to another.

New states get a notary drawn with the flow's cryptographically secure randomness, so an
adversary cannot know in advance which notary to delay or attack. States that must meet in
one transaction but sit under different notaries are first moved with NotaryChangeFlow,
which the old notary notarises and every participant signs.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence

from dlt.flows.api import FlowLogic, FlowSession
from dlt.flows.errors import FlowException
from dlt.flows.library.finality import FinalityFlow, ReceiveFinalityFlow
from dlt.flows.library.signatures import CollectSignaturesFlow, SignTransactionFlow
from dlt.flows.registry import flow, responder
from dlt.identity import Party, X500Name
from dlt.ledger import (
    Command,
    NotaryChange,
    SignedTransaction,
    StateAndRef,
    StateRef,
    WireTransaction,
)
from dlt.ledger.components import PRIVACY_SALT_SIZE
from dlt.vault.query import VaultQueryCriteria


def choose_notary(flow: FlowLogic[object], exclude: Iterable[Party] = ()) -> Party:
    """A notary drawn uniformly by a secure random choice among the services that answer
    (among all of them when none seems to), journaled so a replay draws the same."""
    excluded = set(exclude)
    network_map = flow.services.network_map
    health = flow.services.notary_health
    probe_after = flow.services.notary_client.probe_after

    def draw() -> Party:
        notaries = [n for n in network_map.notary_identities if n not in excluded]
        if not notaries:
            raise FlowException(
                "no notary is left to choose from; check the network parameters' notaries"
            )
        answering = [
            n
            for n in notaries
            if (info := network_map.notary(n)) and health.answering(info, probe_after)
        ]
        candidates = answering or notaries
        return candidates[secrets.randbelow(len(candidates))]

    return flow.remember("notary.choice", draw, Party)


@flow("dlt.NotaryChange", initiating=True)
class NotaryChangeFlow(FlowLogic[tuple[StateAndRef, ...]]):
    """Move `states` (all under one notary) to `new_notary`; returns them as moved."""

    states: tuple[StateAndRef, ...]
    new_notary: Party

    async def call(self) -> tuple[StateAndRef, ...]:
        old = {sar.state.notary for sar in self.states}
        if len(old) != 1:
            raise FlowException("a notary change moves states of one notary at a time")
        (old_notary,) = old
        if old_notary == self.new_notary:
            return self.states
        participants = _participants(self, self.states)
        wtx = WireTransaction.create(
            inputs=[sar.ref for sar in self.states],
            outputs=[
                sar.state.model_copy(update={"notary": self.new_notary}) for sar in self.states
            ],
            commands=[
                Command(
                    value=NotaryChange(new_notary=self.new_notary),
                    signers=tuple(sorted({p.owning_key for p in participants})),
                )
            ],
            notary=old_notary,
            network_parameters_hash=self.current_parameters_hash(),
            privacy_salt=self.random_bytes(PRIVACY_SALT_SIZE),
        )
        stx = SignedTransaction(wtx)
        for key in self.services.our_keys_in({p.owning_key for p in participants}):
            stx = stx.with_signatures(self.services.sign(stx, key))
        sessions = tuple(self.initiate_flow(p) for p in participants if p != self.our_identity)
        self.step(f"Moving {len(self.states)} states to {self.new_notary.name}")
        stx = await self.sub_flow(CollectSignaturesFlow(stx=stx, sessions=sessions))
        stx = await self.sub_flow(FinalityFlow(stx=stx, signers=sessions))
        return tuple(
            StateAndRef(state=state, ref=StateRef(txhash=stx.id, index=index))
            for index, state in enumerate(stx.tx.outputs)
        )


async def align_notaries(
    flow: FlowLogic[object], states: Sequence[StateAndRef], notary: Party
) -> list[StateAndRef]:
    """`states`, with any under another notary first moved to `notary`."""
    groups: dict[Party, list[StateAndRef]] = defaultdict(list)
    for sar in states:
        groups[sar.state.notary].append(sar)
    aligned = list(groups.pop(notary, []))
    for group in groups.values():
        moved = await flow.sub_flow(NotaryChangeFlow(states=tuple(group), new_notary=notary))
        aligned.extend(moved)
    return aligned


def _participants(flow: FlowLogic[object], states: Sequence[StateAndRef]) -> list[Party]:
    found: dict[object, Party] = {}
    for sar in states:
        for participant in sar.state.data.participants:
            party = flow.services.identity.well_known(participant)
            if party is None:
                raise FlowException(f"no legal identity is known for participant {participant}")
            found.setdefault(party.owning_key, party)
    return list(found.values())


class _AcceptNotaryChange(SignTransactionFlow):
    async def check_transaction(self, stx: SignedTransaction) -> None:
        commands = stx.tx.commands
        if len(commands) != 1 or not isinstance(commands[0].value, NotaryChange):
            raise FlowException("asked to sign a notary change that changes more than the notary")


@responder(NotaryChangeFlow)
class NotaryChangeResponder(FlowLogic[SignedTransaction]):
    session: FlowSession

    async def call(self) -> SignedTransaction:
        signed = await self.sub_flow(_AcceptNotaryChange(session=self.session))
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session, signed=signed))


@flow("dlt.ChangeNotary", rpc=True)
class ChangeNotaryFlow(FlowLogic[tuple[StateRef, ...]]):
    """Move our states `refs` to the notary called `new_notary` (for operators and scripts)."""

    refs: tuple[StateRef, ...]
    new_notary: X500Name

    async def call(self) -> tuple[StateRef, ...]:
        notary = self.services.identity.require_party(self.new_notary)
        if self.services.network_map.notary(notary) is None:
            raise FlowException(f"{self.new_notary} is not a notary on this network")
        vault = self.services.vault
        criteria = VaultQueryCriteria(refs=self.refs)
        states = await self.durable(
            "notary-change.select",
            lambda s: vault.select_and_lock(s, self.flow_id, criteria, limit=len(self.refs)),
        )
        moved: list[StateAndRef] = []
        for old_notary in sorted({sar.state.notary for sar in states}, key=str):
            group = tuple(sar for sar in states if sar.state.notary == old_notary)
            moved.extend(await self.sub_flow(NotaryChangeFlow(states=group, new_notary=notary)))
        return tuple(sar.ref for sar in moved)
