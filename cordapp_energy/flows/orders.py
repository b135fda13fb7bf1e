"""Bids and offers: placed with the market operator, each with a notarised receipt."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timedelta

from pydantic import Field
from sqlalchemy.orm import Session

from cordapp_energy.contracts.orders import Cancel, PlaceBid, PlaceOffer
from cordapp_energy.errors import EnrolmentError
from cordapp_energy.flows.common import RecordFinalisedFlow, finalise
from cordapp_energy.flows.energy import window_of
from cordapp_energy.flows.rules import InstalledRules, rules_for
from cordapp_energy.market_rules import check_enrolment_consumer, check_enrolment_producer
from cordapp_energy.states import (
    BidState,
    EnergyState,
    EnergyType,
    OfferState,
    OrderState,
    PaymentState,
)
from dlt.flows import FlowException, FlowLogic, flow, responder
from dlt.flows.library import NotaryUnavailableError, choose_notary
from dlt.identity import Party
from dlt.ledger import SignedTransaction, TimeWindow, TransactionBuilder, UniqueIdentifier
from dlt.vault import (
    CustomColumnCriteria,
    Operator,
    PageSpecification,
    VaultQueryCriteria,
)

RECEIPT_TOLERANCE = timedelta(seconds=60)
"""How far the notary's clock may be from ours when it stamps an order's receipt."""

RESUBMIT_AFTER = 5.0
"""Seconds an order's notary may take before the order goes to another notary instead: a
notary that delays or discards orders then costs a bid seconds, not the client's deadline."""
RESUBMIT_CEILING = 60.0
"""The longest an order waits on one notary once every notary has been tried."""


def _owned_total(
    session: Session,
    flow: FlowLogic[object],
    state_type: type,
    column: str,
    *conditions: CustomColumnCriteria,
) -> int:
    criteria = VaultQueryCriteria(state_types=(state_type,)) & CustomColumnCriteria(
        state_type, "owner_key", Operator.EQ, str(flow.our_identity.owning_key.fingerprint)
    )
    for condition in conditions:
        criteria = criteria & condition
    page = flow.services.vault.query_in(session, criteria, PageSpecification(1, 10_000))
    return sum(getattr(sar.state.data, column) for sar in page.states)


class _PlaceOrderFlow(FlowLogic[SignedTransaction]):
    """Shared by PlaceBid and PlaceOffer: checks, enrolment, the order and its receipt."""

    window_start: datetime
    window_minutes: int = Field(default=15, gt=0, le=1440)
    max_quantity_wh: int = Field(gt=0)
    limit_price_per_kwh: int = Field(ge=0)
    energy_type: EnergyType
    resubmit_after: float | None = Field(default=RESUBMIT_AFTER, gt=0)
    """Seconds before resubmitting through another notary; None waits for the node's notary
    deadline and never resubmits (how the gateway attack is measured without the mitigation)."""

    @abstractmethod
    async def _enrol(self, installed: InstalledRules) -> None:
        """Algorithm 1: refuse a party whose balance or energy is outside the market's limits."""

    @abstractmethod
    def _order(self, **fields: object) -> OrderState:
        """The order state this flow places."""

    async def call(self) -> SignedTransaction:
        installed = await rules_for(self)
        rules = installed.rules
        window = window_of(self.window_start, self.window_minutes)
        rules.check_trading_window(window)
        rules.check_order_quantity(self.max_quantity_wh)
        rules.check_price(self.energy_type, self.limit_price_per_kwh, "limit price")
        self.step("Checking enrolment")
        try:
            await self._enrol(installed)
        except EnrolmentError as refused:
            raise FlowException(str(refused)) from refused
        order = self._order(
            linear_id=UniqueIdentifier.from_bytes(self.random_bytes(16)),
            window=window,
            max_quantity_wh=self.max_quantity_wh,
            limit_price_per_kwh=self.limit_price_per_kwh,
            energy_type=self.energy_type,
            currency=rules.currency,
            owner=self.our_identity,
            market_operator=rules.market_operator,
        )
        tried: list[Party] = []
        deadline = self.resubmit_after
        while True:
            if deadline is not None and len(tried) >= len(
                self.services.network_map.notary_identities
            ):
                # Every notary was tried once: go round again, waiting longer each round, so
                # a market with one notary (or all of them slow) still places the order.
                tried, deadline = [], min(deadline * 2, RESUBMIT_CEILING)
            notary = choose_notary(self, exclude=tried)
            builder = TransactionBuilder(notary=notary)
            builder.add_output_state(order)
            builder.add_command(
                PlaceBid() if isinstance(order, BidState) else PlaceOffer(),
                self.our_identity.owning_key,
            )
            builder.add_attachment(installed.attachment_id)
            builder.set_time_window(TimeWindow.with_tolerance(self.now(), RECEIPT_TOLERANCE))
            self.step(f"Notarising the order's receipt with {notary.name}")
            try:
                return await finalise(self, self.sign_initial(builder), notary_deadline=deadline)
            except NotaryUnavailableError:
                if self.resubmit_after is None:
                    raise
                # Delayed or discarded: the order is not lost, it goes to another notary.
                tried.append(notary)
                self.step(f"{notary.name} did not answer; resubmitting through another notary")


@flow("energy.PlaceBid", initiating=True, rpc=True)
class PlaceBidFlow(_PlaceOrderFlow):
    """A consumer bids for up to `max_quantity_wh` at no more than `limit_price_per_kwh`."""

    async def _enrol(self, installed: InstalledRules) -> None:
        currency = installed.rules.currency
        balance = await self.journaled_read(
            "energy.balance",
            lambda s: _owned_total(
                s,
                self,
                PaymentState,
                "amount",
                CustomColumnCriteria(PaymentState, "currency", Operator.EQ, currency),
            ),
        )
        check_enrolment_consumer(balance, installed.rules)

    def _order(self, **fields: object) -> OrderState:
        return BidState.model_validate(fields)


@flow("energy.PlaceOffer", initiating=True, rpc=True)
class PlaceOfferFlow(_PlaceOrderFlow):
    """A producer offers up to `max_quantity_wh` at no less than `limit_price_per_kwh`; it
    must hold that much energy of the type for the window."""

    async def _enrol(self, installed: InstalledRules) -> None:
        window = window_of(self.window_start, self.window_minutes)
        held = await self.journaled_read(
            "energy.held",
            lambda s: _owned_total(
                s,
                self,
                EnergyState,
                "quantity_wh",
                CustomColumnCriteria(
                    EnergyState, "energy_type", Operator.EQ, self.energy_type.value
                ),
                CustomColumnCriteria(EnergyState, "window_start", Operator.EQ, window.start),
            ),
        )
        check_enrolment_producer(held, installed.rules)
        if held < self.max_quantity_wh:
            raise FlowException(
                f"{self.our_identity.name} has not enough energy: it holds {held} Wh of "
                f"{self.energy_type} for {window} but offers {self.max_quantity_wh} Wh"
            )

    def _order(self, **fields: object) -> OrderState:
        return OfferState.model_validate(fields)


@flow("energy.CancelOrder", initiating=True, rpc=True)
class CancelOrderFlow(FlowLogic[SignedTransaction]):
    """Withdraw one of our open orders by its id."""

    order_id: str = Field(pattern=r"^[0-9a-f]{32}$")

    async def call(self) -> SignedTransaction:
        installed = await rules_for(self)
        vault = self.services.vault
        order = None
        for kind in (BidState, OfferState):
            criteria = VaultQueryCriteria(state_types=(kind,)) & CustomColumnCriteria(
                kind, "linear_id", Operator.EQ, self.order_id
            )
            page = await self.journaled_read(
                "energy.find-order",
                lambda s, criteria=criteria: (
                    vault.query_in(s, criteria, PageSpecification(1, 1)).states
                ),
            )
            if page:
                order = page[0]
                break
        if order is None or order.state.data.owner != self.our_identity:
            raise FlowException(f"we have no open order {self.order_id}")
        builder = TransactionBuilder()
        builder.add_input_state(order)
        builder.add_command(Cancel(), self.our_identity.owning_key)
        builder.add_attachment(installed.attachment_id)
        operator = installed.rules.market_operator
        return await finalise(self, self.sign_initial(builder), also=(operator,))


@responder(PlaceBidFlow)
class PlaceBidResponder(RecordFinalisedFlow):
    pass


@responder(PlaceOfferFlow)
class PlaceOfferResponder(RecordFinalisedFlow):
    pass


@responder(CancelOrderFlow)
class CancelOrderResponder(RecordFinalisedFlow):
    pass
