"""Market clearing: the operator matches one delivery window's orders and has every match
settled by delivery versus payment between its buyer and seller."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pydantic import Field
from sqlalchemy.orm import Session

from cordapp_energy.contracts.orders import Fill, Match
from cordapp_energy.flows.common import finalise
from cordapp_energy.flows.dvp import SettleTradeFlow, TradeTerms
from cordapp_energy.flows.energy import window_of
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.matching import ClearingResult, Order, Side
from cordapp_energy.mechanisms import Mechanism, clear
from cordapp_energy.states import BidState, DeliveryWindow, OfferState, OrderState
from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, FlowSession, flow, responder
from dlt.flows.library import ReceiveFinalityFlow, align_notaries
from dlt.identity import Party, X500Name
from dlt.ledger import LedgerError, LedgerModel, StateAndRef, TransactionBuilder
from dlt.vault import (
    CustomColumnCriteria,
    Direction,
    Operator,
    PageSpecification,
    Sort,
    SortKey,
    StandardColumn,
    VaultQueryCriteria,
)

log = logging.getLogger(__name__)

MAX_ORDERS_PER_WINDOW = 10_000


@serializable("energy.SettlementInstruction")
class SettlementInstruction(LedgerModel):
    """Tells a buyer to settle one matched trade with its seller."""

    seller: X500Name
    terms: TradeTerms


@serializable("energy.SettlementOutcome")
class SettlementOutcome(LedgerModel):
    seller: X500Name
    buyer: X500Name
    quantity_wh: int
    price_per_kwh: int
    tx_id: SecureHash | None = None
    error: str | None = None


@serializable("energy.ClearingReport")
class ClearingReport(LedgerModel):
    """What clearing one window did: the match, the settlements and the market figures."""

    window: DeliveryWindow
    bids: int
    offers: int
    clearing_price: int | None
    cleared_wh: int
    offered_wh: int
    social_welfare: int
    match_tx_id: SecureHash | None = None
    settlements: tuple[SettlementOutcome, ...] = ()

    @property
    def settled_wh(self) -> int:
        return sum(s.quantity_wh for s in self.settlements if s.tx_id is not None)


def _orders(
    session: Session, flow: FlowLogic[object], kind: type[OrderState], window: DeliveryWindow
) -> list[StateAndRef]:
    criteria = (
        VaultQueryCriteria(state_types=(kind,))
        & CustomColumnCriteria(kind, "window_start", Operator.EQ, window.start)
        & CustomColumnCriteria(
            kind, "market_operator_name", Operator.EQ, str(flow.our_identity.name)
        )
    )
    sort = Sort((SortKey(StandardColumn.RECORDED_AT, Direction.ASC),))
    page = flow.services.vault.query_in(
        session, criteria, PageSpecification(1, MAX_ORDERS_PER_WINDOW), sort
    )
    orders = _first_of_each_order(page.states)
    flow.services.vault.soft_lock_reserve(session, flow.flow_id, [sar.ref for sar in orders])
    return orders


def _first_of_each_order(states: Sequence[StateAndRef]) -> list[StateAndRef]:
    """One state per order id, the first recorded: an owner can get two receipts for one
    order (through two notaries), and counting it twice would distort or stall the market."""
    seen: set[str] = set()
    first = []
    for sar in states:
        order_id = sar.state.data.linear_id.id
        if order_id in seen:
            log.warning("ignoring a second receipt %s for order %s", sar.ref, order_id)
            continue
        seen.add(order_id)
        first.append(sar)
    return first


def _book(orders: list[StateAndRef], side: Side) -> list[Order]:
    return [
        Order(
            order_id=sar.state.data.linear_id.id,
            side=side,
            quantity_wh=sar.state.data.max_quantity_wh,
            limit_price=sar.state.data.limit_price_per_kwh,
            submitted_seq=seq,
        )
        for seq, sar in enumerate(orders)
    ]


@flow("energy.ClearMarket", initiating=True, rpc=True)
class ClearMarketFlow(FlowLogic[ClearingReport]):
    """Clear the delivery window starting at `window_start` and settle every match, by the
    market rules' mechanism unless `mechanism` names another (to compare them)."""

    window_start: datetime
    window_minutes: int = Field(default=15, gt=0, le=1440)
    mechanism: Mechanism | None = None

    async def call(self) -> ClearingReport:
        installed = await rules_for(self)
        if installed.rules.market_operator != self.our_identity:
            raise FlowException("only the market operator clears the market")
        window = window_of(self.window_start, self.window_minutes)
        self.step("Collecting the window's orders")
        bids, offers = await self.durable(
            "energy.orders",
            lambda s: [_orders(s, self, BidState, window), _orders(s, self, OfferState, window)],
        )
        rules = installed.rules
        result = clear(
            self.mechanism or rules.mechanism,
            _book(bids, Side.BUY),
            _book(offers, Side.SELL),
            delta_max_bp=rules.delta_max_bp,
        )
        report = ClearingReport(
            window=window,
            bids=len(bids),
            offers=len(offers),
            clearing_price=result.clearing_price,
            cleared_wh=result.cleared_quantity_wh,
            offered_wh=result.total_offered_wh,
            social_welfare=result.social_welfare,
        )
        if not result.matches:
            return report
        self.step(f"Recording {len(result.matches)} matches")
        match_tx, sessions = await self._record_match(installed.attachment_id, bids, offers, result)
        self.step("Settling the matches")
        outcomes = await self._settle(result, bids, offers, window, sessions)
        return report.model_copy(update={"match_tx_id": match_tx, "settlements": tuple(outcomes)})

    async def _record_match(
        self,
        rules_id: SecureHash,
        bids: list[StateAndRef],
        offers: list[StateAndRef],
        result: ClearingResult,
    ) -> tuple[SecureHash, dict[Party, FlowSession]]:
        builder = TransactionBuilder()
        ids = {sar.state.data.linear_id.id: sar.state.data.linear_id for sar in (*bids, *offers)}
        traded = [sar for sar in (*bids, *offers) if result.fills[sar.state.data.linear_id.id]]
        counts = Counter(sar.state.notary for sar in traded)
        traded = await align_notaries(self, traded, counts.most_common(1)[0][0])
        owners: dict[Party, FlowSession] = {}
        for sar in traded:
            order = sar.state.data
            builder.add_input_state(sar)
            left = order.max_quantity_wh - result.fills[order.linear_id.id]
            if left:
                builder.add_output_state(order.with_max_quantity(left))
            if order.owner not in owners:
                owners[order.owner] = self.initiate_flow(order.owner)
        fills = tuple(
            Fill(
                bid_id=ids[m.bid_id],
                offer_id=ids[m.offer_id],
                quantity_wh=m.quantity_wh,
                price_per_kwh=m.price,
            )
            for m in result.matches
        )
        builder.add_command(Match(fills=fills), self.our_identity.owning_key)
        builder.add_attachment(rules_id)
        stx = await finalise(self, self.sign_initial(builder), owners)
        return stx.id, owners

    async def _settle(
        self,
        result: ClearingResult,
        bids: list[StateAndRef],
        offers: list[StateAndRef],
        window: DeliveryWindow,
        sessions: dict[Party, FlowSession],
    ) -> list[SettlementOutcome]:
        orders = {sar.state.data.linear_id.id: sar.state.data for sar in (*bids, *offers)}
        instructions: dict[Party, list[SettlementInstruction]] = {party: [] for party in sessions}
        for match in result.matches:
            bid, offer = orders[match.bid_id], orders[match.offer_id]
            instructions[bid.owner].append(
                SettlementInstruction(
                    seller=offer.owner.name,
                    terms=TradeTerms(
                        quantity_wh=match.quantity_wh,
                        price_per_kwh=match.price,
                        energy_type=offer.energy_type,
                        window=window,
                    ),
                )
            )
        # Every buyer settles its own trades, with its own money: all of them at once, then
        # the answers in turn (a seller waits for energy another settlement holds).
        for party, session in sessions.items():
            await session.send(instructions[party])
        outcomes: list[SettlementOutcome] = []
        for session in sessions.values():
            outcomes.extend(await session.receive(list))
        return outcomes


@responder(ClearMarketFlow)
class ClearMarketResponder(FlowLogic[None]):
    """An order owner records the match, then, as a buyer, settles each of its trades."""

    session: FlowSession

    async def call(self) -> None:
        await self.sub_flow(ReceiveFinalityFlow(session=self.session))
        instructions = await self.session.receive(list)
        outcomes = []
        for instruction in instructions:
            if not isinstance(instruction, SettlementInstruction):
                raise FlowException("the market operator sent something other than instructions")
            outcome = SettlementOutcome(
                seller=instruction.seller,
                buyer=self.our_identity.name,
                quantity_wh=instruction.terms.quantity_wh,
                price_per_kwh=instruction.terms.price_per_kwh,
            )
            try:
                stx = await self.sub_flow(
                    SettleTradeFlow(seller=instruction.seller, terms=instruction.terms)
                )
                outcome = outcome.model_copy(update={"tx_id": stx.id})
            except (FlowException, LedgerError) as refused:
                outcome = outcome.model_copy(update={"error": str(refused)})
            outcomes.append(outcome)
        await self.session.send(outcomes)
