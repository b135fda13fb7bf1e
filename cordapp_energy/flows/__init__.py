"""The energy CorDapp's flows: market rules, money, energy, delivery versus payment, orders,
and market clearing."""

from cordapp_energy.flows.clearing import (
    ClearingReport,
    ClearMarketFlow,
    Mechanism,
    SettlementOutcome,
)
from cordapp_energy.flows.dvp import SettleTradeFlow, TradeTerms
from cordapp_energy.flows.energy import RepeatedPayFlow, RequestEnergyFlow, TransferEnergyFlow
from cordapp_energy.flows.meter import RecordMeterReadingFlow
from cordapp_energy.flows.orders import CancelOrderFlow, PlaceBidFlow, PlaceOfferFlow
from cordapp_energy.flows.payments import IssuePaymentFlow, PayFlow
from cordapp_energy.flows.request_and_pay import RequestAndPayFlow
from cordapp_energy.flows.rules import (
    MarketNotConfiguredError,
    PublishCommunityRulesFlow,
    PublishMarketRulesFlow,
    RulesPublication,
    community_rules,
    current_rules,
)

__all__ = [
    "CancelOrderFlow",
    "ClearMarketFlow",
    "ClearingReport",
    "IssuePaymentFlow",
    "MarketNotConfiguredError",
    "Mechanism",
    "PayFlow",
    "PlaceBidFlow",
    "PlaceOfferFlow",
    "PublishCommunityRulesFlow",
    "PublishMarketRulesFlow",
    "RecordMeterReadingFlow",
    "RepeatedPayFlow",
    "RequestAndPayFlow",
    "RequestEnergyFlow",
    "RulesPublication",
    "SettleTradeFlow",
    "SettlementOutcome",
    "TradeTerms",
    "TransferEnergyFlow",
    "community_rules",
    "current_rules",
]
