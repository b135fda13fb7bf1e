"""The energy CorDapp's contracts and their commands; importing installs them."""

from cordapp_energy.contracts.energy import (
    ENERGY_COMMANDS,
    EnergyContract,
    Request,
    Settle,
    Split,
    Transfer,
)
from cordapp_energy.contracts.meter import MeterContract
from cordapp_energy.contracts.orders import (
    ORDER_COMMANDS,
    Cancel,
    Fill,
    Match,
    OrderContract,
    PlaceBid,
    PlaceOffer,
)
from cordapp_energy.contracts.payment import (
    PAYMENT_COMMANDS,
    Exit,
    IssuePayment,
    Pay,
    PaymentContract,
)

__all__ = [
    "ENERGY_COMMANDS",
    "ORDER_COMMANDS",
    "PAYMENT_COMMANDS",
    "Cancel",
    "EnergyContract",
    "Exit",
    "Fill",
    "IssuePayment",
    "Match",
    "MeterContract",
    "OrderContract",
    "Pay",
    "PaymentContract",
    "PlaceBid",
    "PlaceOffer",
    "Request",
    "Settle",
    "Split",
    "Transfer",
]
