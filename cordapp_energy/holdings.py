"""What energy and money states are worth in `dlt vault balance`, and the bill of each trade.

Energy adds up per energy type and delivery window (Wh), money per issuer and currency
(minor units). A trade is read from the transaction that settled it, so a consumer sees what
it paid without the ledger storing a price twice: a delivery versus payment (Settle) carries
the agreed price in its command, a request-and-pay (Request with payment) in the new state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cordapp_energy.contracts.energy import Request, Settle
from cordapp_energy.states import DeliveryWindow, EnergyState, PaymentState
from dlt.cli.holdings import Facet, Holding, Trade
from dlt.crypto import PublicKey
from dlt.identity import AbstractParty
from dlt.ledger import ContractState, SignedTransaction

ENERGY = "energy"
MONEY = "money"
PER_KWH = "per kWh"


def window_label(window: DeliveryWindow) -> str:
    """`2026-06-01 12:00-12:15Z` for a window of whole minutes shorter than a day (it ends
    the next day when the end is the earlier time), else both ends in full."""
    start, end = window.start, window.end
    whole_minutes = all(t == t.replace(second=0, microsecond=0) for t in (start, end))
    if window.duration < timedelta(days=1) and whole_minutes:
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}Z"
    return f"{start:%Y-%m-%d %H:%M:%S}Z/{end:%Y-%m-%d %H:%M:%S}Z"


def energy_holding(state: EnergyState, quantity_wh: int | None = None) -> Holding:
    window = state.window
    return Holding(
        asset=ENERGY,
        unit="Wh",
        amount=state.quantity_wh if quantity_wh is None else quantity_wh,
        facets=(
            Facet("energy_type", state.energy_type.value, state.energy_type.value),
            Facet("window", window.model_dump(mode="json"), window_label(window)),
        ),
    )


def money_holding(state: PaymentState) -> Holding:
    return Holding(
        asset=MONEY,
        unit="minor units",
        amount=state.amount,
        facets=(
            Facet("issuer", str(state.issuer.name), str(state.issuer.name)),
            Facet("currency", str(state.currency), str(state.currency)),
        ),
    )


class EnergyHoldings:
    """The energy CorDapp's `dlt.cli.holdings.HoldingRules`."""

    def holding(self, state: ContractState) -> Holding | None:
        if isinstance(state, EnergyState):
            return energy_holding(state)
        if isinstance(state, PaymentState):
            return money_holding(state)
        return None

    def trades(self, stx: SignedTransaction, us: PublicKey) -> Iterable[Trade]:
        tx = stx.tx
        outputs = [output.data for output in tx.outputs]
        for command in tx.commands:
            value = command.value
            if isinstance(value, Settle):
                buyer, seller, price = value.buyer, value.seller, value.price_per_kwh
            elif isinstance(value, Request):
                bought = [
                    s for s in outputs if isinstance(s, EnergyState) and not _is(s.owner, s.issuer)
                ]
                if len(bought) != 1:
                    continue
                buyer, seller, price = bought[0].owner, bought[0].issuer, bought[0].price_per_kwh
            else:
                continue
            if us not in (buyer.owning_key, seller.owning_key):
                continue
            delivered = [s for s in outputs if isinstance(s, EnergyState) and _is(s.owner, buyer)]
            if not delivered:
                continue
            currency = str(delivered[0].currency)
            paid = sum(
                s.amount
                for s in outputs
                if isinstance(s, PaymentState) and _is(s.owner, seller) and s.currency == currency
            )
            buying = us == buyer.owning_key
            yield Trade(
                tx_id=str(stx.id),
                side="bought" if buying else "sold",
                counterparty=_name(seller if buying else buyer),
                goods=energy_holding(delivered[0], sum(s.quantity_wh for s in delivered)),
                price=price,
                price_unit=PER_KWH,
                paid=paid,
                currency=currency,
            )


def _is(party: AbstractParty, other: AbstractParty) -> bool:
    return party.owning_key == other.owning_key


def _name(party: AbstractParty) -> str:
    name = getattr(party, "name", None)
    return str(name) if name is not None else f"key {party.owning_key.fingerprint}"


RULES = EnergyHoldings()
