"""The community's market on a ledger: each interval's readings, issuance, orders, clearing
and delivery-versus-payment settlements run as flows, on a MockNetwork or a real network.

`LedgerMarket` holds what both share; a `FlowCaller` runs one flow on one party's node, in
process (`MockNetwork`) or through RPC (`cordapp_energy.simulator.network`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cordapp_energy.flows import (
    ClearingReport,
    ClearMarketFlow,
    PlaceBidFlow,
    PlaceOfferFlow,
    RecordMeterReadingFlow,
    RequestEnergyFlow,
)
from cordapp_energy.meters import Meter
from cordapp_energy.simulator.economics import Intent, IntervalOutcome, Trade, outcome_of
from cordapp_energy.simulator.profiles import DayProfile
from cordapp_energy.states import DeliveryWindow, EnergyType
from dlt.crypto import SecureHash
from dlt.encoding import encode
from dlt.flows import FlowLogic
from dlt.identity import Party

log = logging.getLogger(__name__)

FlowCaller = Callable[[str, type[FlowLogic[Any]], dict[str, Any]], Awaitable[Any]]
"""Run a flow class with arguments on the node of a household (or "operator"); its result."""

OPERATOR = "operator"


class LedgerMarket:
    """Per interval: meters sign readings, producers issue and offer their surplus, households
    bid for their deficit, the operator clears and every match settles by DvP."""

    def __init__(
        self,
        call: FlowCaller,
        meters: Mapping[str, Meter],
        names: Mapping[str, str],
        notary: Party,
        parameters_hash: SecureHash,
        parallel: int = 8,
    ) -> None:
        self.call = call
        self.meters = meters
        self.household_of = {name: household for household, name in names.items()}
        self.notary = notary
        self.parameters_hash = parameters_hash
        self.flows = 0
        self._gate = asyncio.Semaphore(parallel)

    async def _run(self, who: str, flow: type[FlowLogic[Any]], arguments: dict[str, Any]) -> Any:
        async with self._gate:
            self.flows += 1
            return await self.call(who, flow, arguments)

    async def clear(
        self,
        day: int,
        interval: int,
        window: DeliveryWindow,
        profile: DayProfile,
        offers: Sequence[Intent],
        bids: Sequence[Intent],
    ) -> IntervalOutcome:
        if not offers or not bids:
            return outcome_of(day, interval, offers, bids, (), None, 0)
        placed = await asyncio.gather(
            *(self._offer(intent, window, profile, interval) for intent in offers)
        )
        live_offers = [intent for intent, ok in zip(offers, placed, strict=True) if ok]
        await asyncio.gather(*(self._order(PlaceBidFlow, i, window.start) for i in bids))
        report = await self._run(OPERATOR, ClearMarketFlow, {"window_start": window.start})
        if not isinstance(report, ClearingReport):
            report = ClearingReport.model_validate(report)
        trades, failed = [], 0
        for settlement in report.settlements:
            if settlement.tx_id is None:
                failed += 1
                log.warning("settlement failed: %s", settlement.error)
                continue
            trades.append(
                Trade(
                    self.household_of[str(settlement.buyer)],
                    self.household_of[str(settlement.seller)],
                    settlement.quantity_wh,
                    settlement.price_per_kwh,
                )
            )
        return outcome_of(
            day,
            interval,
            live_offers,
            bids,
            trades,
            report.clearing_price,
            report.cleared_wh,
            failed,
        )

    async def _offer(
        self, intent: Intent, window: DeliveryWindow, profile: DayProfile, interval: int
    ) -> bool:
        """Reading, issuance and offer; False when the reading already backs its energy (a
        resumed run redoing an interval), which the contract would refuse to issue again."""
        meter = self.meters.get(intent.household)
        if meter is not None:
            stx = meter.sign_reading(
                window,
                profile.generation_wh[intent.household][interval],
                profile.load_wh[intent.household][interval],
                notary=self.notary,
                parameters_hash=self.parameters_hash,
            )
            reading = base64.b64encode(encode(stx)).decode()
            await self._run(intent.household, RecordMeterReadingFlow, {"transaction": reading})
        try:
            await self._run(
                intent.household,
                RequestEnergyFlow,
                {
                    "quantity_wh": intent.quantity_wh,
                    "energy_type": EnergyType.SOLAR,
                    "window_start": window.start,
                    "price_per_kwh": intent.limit,
                },
            )
        except Exception as refused:
            if "backs 0 Wh more" not in str(refused):
                raise
            return False
        await self._order(PlaceOfferFlow, intent, window.start)
        return True

    async def _order(
        self, flow: type[FlowLogic[Any]], intent: Intent, window_start: datetime
    ) -> None:
        await self._run(
            intent.household,
            flow,
            {
                "window_start": window_start,
                "max_quantity_wh": intent.quantity_wh,
                "limit_price_per_kwh": intent.limit,
                "energy_type": EnergyType.SOLAR,
            },
        )
