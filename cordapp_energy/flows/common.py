"""What the energy flows share: choosing a notary, selecting states, finalising with parties."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cordapp_energy.states import DeliveryWindow, EnergyState, EnergyType, PaymentState
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, FlowSession
from dlt.flows.library import FinalityFlow, ReceiveFinalityFlow, align_notaries
from dlt.identity import AbstractParty, Party
from dlt.ledger import LedgerModel, SignedTransaction, StateAndRef
from dlt.vault import (
    CustomColumnCriteria,
    Operator,
    PageSpecification,
    QueryCriteria,
    SoftLocking,
    VaultQueryCriteria,
)
from dlt.vault.errors import InsufficientStatesError


def well_known(flow: FlowLogic[object], parties: Iterable[AbstractParty]) -> list[Party]:
    """The distinct legal identities behind `parties`, without ourselves."""
    found: dict[object, Party] = {}
    for party in parties:
        known = flow.services.identity.well_known(party)
        if known is None:
            raise FlowException(f"no legal identity is known for {party}")
        if known != flow.our_identity:
            found.setdefault(known.owning_key, known)
    return list(found.values())


def counterparties(flow: FlowLogic[object], stx: SignedTransaction) -> list[Party]:
    """Every other participant of the transaction's outputs: who must record it."""
    return well_known(flow, (p for state in stx.tx.outputs for p in state.data.participants))


async def finalise(
    flow: FlowLogic[object],
    stx: SignedTransaction,
    sessions: dict[Party, FlowSession] | None = None,
    also: Iterable[Party] = (),
    notary_deadline: float | None = None,
    signers: dict[Party, FlowSession] | None = None,
) -> SignedTransaction:
    """Notarise if needed (within `notary_deadline` seconds, the node's setting when None)
    and have every participant of the outputs, and `also` those whose states it consumes,
    record `stx`; sessions already open are reused. `signers` signed `stx` on their session
    and are sent only its signatures (their responder passes what it signed as `signed`)."""
    signing = dict(signers or {})
    open_sessions = dict(sessions or {})
    for party in [*counterparties(flow, stx), *well_known(flow, also)]:
        if party not in open_sessions and party not in signing:
            open_sessions[party] = flow.initiate_flow(party)
    finality = FinalityFlow(
        stx=stx,
        sessions=tuple(open_sessions.values()),
        signers=tuple(signing.values()),
        notary_deadline=notary_deadline,
    )
    return await flow.sub_flow(finality)


class RecordFinalisedFlow(FlowLogic[SignedTransaction]):
    """The responder of a flow that only finalises: verify and record what it sends."""

    session: FlowSession

    async def call(self) -> SignedTransaction:
        return await self.sub_flow(ReceiveFinalityFlow(session=self.session))


def payment_criteria(owner_key: str, currency: str) -> QueryCriteria:
    """Money in `currency` owned by the key with fingerprint `owner_key` (the schema's
    composite index serves exactly this)."""
    return (
        VaultQueryCriteria(state_types=(PaymentState,))
        & CustomColumnCriteria(PaymentState, "owner_key", Operator.EQ, owner_key)
        & CustomColumnCriteria(PaymentState, "currency", Operator.EQ, currency)
    )


def energy_criteria(
    owner_key: str, energy_type: EnergyType, window: DeliveryWindow
) -> QueryCriteria:
    """Energy of one type and delivery window owned by the key with fingerprint `owner_key`."""
    return (
        VaultQueryCriteria(state_types=(EnergyState,))
        & CustomColumnCriteria(EnergyState, "owner_key", Operator.EQ, owner_key)
        & CustomColumnCriteria(EnergyState, "energy_type", Operator.EQ, energy_type.value)
        & CustomColumnCriteria(EnergyState, "window_start", Operator.EQ, window.start)
    )


async def select_payment(
    flow: FlowLogic[object], amount: int, currency: str
) -> tuple[list[StateAndRef], int]:
    """Lock our money in `currency` worth at least `amount`; returns the coins and their sum."""
    criteria = payment_criteria(_our_key(flow), currency)

    def enough(picked: list[StateAndRef]) -> bool:
        return sum(sar.state.data.amount for sar in picked) >= amount

    coins = await _lock(
        flow,
        "energy.select-payment",
        criteria,
        enough,
        f"{flow.our_identity.name} does not have enough balance: {amount} {currency} "
        "minor units are needed",
    )
    if len({sar.state.notary for sar in coins}) > 1:
        coins = await align_notaries(flow, coins, coins[0].state.notary)
    return coins, sum(sar.state.data.amount for sar in coins)


async def select_energy(
    flow: FlowLogic[object],
    quantity_wh: int,
    energy_type: EnergyType,
    window: DeliveryWindow,
    patience: float = 0.0,
) -> list[StateAndRef]:
    """Lock our energy of one lot for `window` covering `quantity_wh`. With `patience`, wait
    up to that many seconds while other flows hold energy that may come back as change (a
    seller settling several matched trades at once)."""
    criteria = energy_criteria(_our_key(flow), energy_type, window)
    us = flow.our_identity

    def enough(picked: list[StateAndRef]) -> bool:
        return sum(sar.state.data.quantity_wh for sar in picked) >= quantity_wh

    return await _lock(
        flow,
        "energy.select-energy",
        criteria,
        enough,
        f"{us.name} has not enough energy: {quantity_wh} Wh of {energy_type} for {window} "
        "are needed",
        patience,
    )


@serializable("energy.Selection")
class Selection(LedgerModel):
    """One journaled attempt to select states: what it locked (None: it could not), or why
    not and whether other flows hold matching states that may yet come back."""

    picked: tuple[StateAndRef, ...] | None = None
    refusal: str = ""
    held_elsewhere: bool = False


RETRY_PAUSES = (0.1, 0.2, 0.4, 0.8, 1.6)
"""Seconds between attempts of a patient selection, then the last one again: short while a
concurrent settlement is likely to finish soon, sparse after, so a long wait costs few
journal entries."""


async def _lock(
    flow: FlowLogic[object],
    kind: str,
    criteria: QueryCriteria,
    enough: Callable[[list[StateAndRef]], bool],
    shortfall: str,
    patience: float = 0.0,
) -> list[StateAndRef]:
    """Select and soft-lock states for this flow; `shortfall` explains a refusal. Every
    attempt is journaled, refusals too, so a replay takes the same attempts and waits."""
    vault = flow.services.vault
    held = criteria & VaultQueryCriteria(soft_locking=SoftLocking.locked_only())

    def attempt(session: Session) -> Selection:
        try:
            picked = vault.select_and_lock(session, flow.flow_id, criteria, enough=enough)
        except InsufficientStatesError as exc:
            elsewhere = patience > 0 and bool(
                vault.query_in(session, held, PageSpecification(page_size=1)).states
            )
            return Selection(refusal=str(exc), held_elsewhere=elsewhere)
        return Selection(picked=tuple(picked))

    selection = await flow.durable(kind, attempt)
    give_up: datetime | None = None
    attempts = 0
    while selection.picked is None:
        if not selection.held_elsewhere:  # always so without patience
            raise FlowException(f"{shortfall} ({selection.refusal})")
        now = flow.now()
        give_up = give_up or now + timedelta(seconds=patience)
        if now >= give_up:
            raise FlowException(f"{shortfall} ({selection.refusal})")
        await flow.sleep(RETRY_PAUSES[min(attempts, len(RETRY_PAUSES) - 1)])
        attempts += 1
        selection = await flow.durable(kind, attempt)
    return list(selection.picked)


def _our_key(flow: FlowLogic[object]) -> str:
    """Owned, not merely seen: a producer also records energy it issued to others."""
    return str(flow.our_identity.owning_key.fingerprint)
