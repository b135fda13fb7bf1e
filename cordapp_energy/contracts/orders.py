"""OrderContract: place and cancel bids and offers, and clear them in a market match."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import Field

from cordapp_energy.contracts.common import changed_fields, require_signer, single_command
from cordapp_energy.errors import (
    CurrencyViolation,
    EnergyTypeViolation,
    MatchViolation,
    PartyViolation,
    PriceViolation,
    QuantityViolation,
    ShapeViolation,
    WindowViolation,
)
from cordapp_energy.market_rules import MarketRules, rules_in
from cordapp_energy.states import ORDER_CONTRACT, BidState, OfferState, OrderState
from dlt.encoding import serializable
from dlt.ledger import (
    CommandData,
    CommandWithParties,
    Contract,
    LedgerModel,
    LedgerTransaction,
    UniqueIdentifier,
    contract,
)


@serializable("energy.PlaceBid")
class PlaceBid(CommandData):
    """Create one bid within the market rules; its owner signs."""


@serializable("energy.PlaceOffer")
class PlaceOffer(CommandData):
    """Create one offer within the market rules; its owner signs."""


@serializable("energy.Cancel")
class Cancel(CommandData):
    """Withdraw orders: they are consumed with no successor; each owner signs."""


@serializable("energy.Fill")
class Fill(LedgerModel):
    """One trade of a clearing: `quantity_wh` from an offer to a bid at `price_per_kwh`."""

    bid_id: UniqueIdentifier
    offer_id: UniqueIdentifier
    quantity_wh: int = Field(gt=0, strict=True)
    price_per_kwh: int = Field(ge=0, strict=True)


@serializable("energy.Match")
class Match(CommandData):
    """The market operator's clearing of one delivery window, trade by trade.

    Orders are named by linear id. Every consumed order that has quantity left comes back as
    a residual order with alpha reduced by what it traded, so each order gets a notarised receipt.
    """

    fills: tuple[Fill, ...] = ()


ORDER_COMMANDS: tuple[type[CommandData], ...] = (PlaceBid, PlaceOffer, Cancel, Match)


@contract(ORDER_CONTRACT)
class OrderContract(Contract):
    """Orders respect the market rules when placed and their limits when cleared."""

    def verify(self, tx: LedgerTransaction) -> None:
        command = single_command(tx, ORDER_COMMANDS, "order contract")
        rules = rules_in(tx)
        inputs = tx.inputs_of_type(OrderState)
        outputs = tx.outputs_of_type(OrderState)
        value = command.value
        if isinstance(value, PlaceBid):
            _verify_place(command, rules, BidState, inputs, outputs)
        elif isinstance(value, PlaceOffer):
            _verify_place(command, rules, OfferState, inputs, outputs)
        elif isinstance(value, Cancel):
            _verify_cancel(command, inputs, outputs)
        elif isinstance(value, Match):
            _verify_match(command, value, rules, inputs, outputs)


def _verify_place(
    command: CommandWithParties,
    rules: MarketRules,
    kind: type[OrderState],
    inputs: list[OrderState],
    outputs: list[OrderState],
) -> None:
    if inputs or len(outputs) != 1 or type(outputs[0]) is not kind:
        found = ", ".join(type(order).__name__ for order in outputs) or "none"
        raise ShapeViolation(
            f"{type(command.value).__name__} consumes no orders and creates exactly one "
            f"{kind.__name__}; found {len(inputs)} order inputs and outputs {found}"
        )
    order = outputs[0]
    require_signer(command, order.owner, f"the {order.kind}'s owner")
    _require_operator(order, rules)
    rules.check_currency(order.currency, f"the {order.kind}'s limit price")
    rules.check_price(order.energy_type, order.limit_price_per_kwh, "limit price")
    rules.check_order_quantity(order.max_quantity_wh)
    rules.check_trading_window(order.window)


def _require_operator(order: OrderState, rules: MarketRules) -> None:
    if order.market_operator != rules.market_operator:
        raise PartyViolation(
            f"{order.kind} {order.linear_id} names market operator {order.market_operator}, "
            f"but the market rules are operated by {rules.market_operator}"
        )


def _verify_cancel(
    command: CommandWithParties, inputs: list[OrderState], outputs: list[OrderState]
) -> None:
    if not inputs or outputs:
        raise ShapeViolation(
            "a cancel consumes orders and creates none; found "
            f"{len(inputs)} order inputs and {len(outputs)} order outputs"
        )
    for order in inputs:
        require_signer(command, order.owner, f"the {order.kind}'s owner")


def _verify_match(
    command: CommandWithParties,
    match: Match,
    rules: MarketRules,
    inputs: list[OrderState],
    outputs: list[OrderState],
) -> None:
    require_signer(command, rules.market_operator, "the market operator")
    if not inputs:
        raise ShapeViolation("a match clears orders; found no order inputs")
    for order in inputs:
        _require_operator(order, rules)
    orders = _by_linear_id(inputs, "input")
    if len({order.window for order in inputs}) != 1:
        raise WindowViolation(
            "a match clears one delivery window; the input orders span several, clear each "
            "window in its own transaction"
        )
    traded = _check_fills(match.fills, orders, rules)
    for order_id, order in orders.items():
        if traded[order_id] > order.max_quantity_wh:
            raise QuantityViolation(
                f"{order.kind} {order_id} trades {traded[order_id]} Wh in this match, beyond "
                f"its maximum quantity alpha of {order.max_quantity_wh} Wh"
            )
    _check_residuals(orders, traded, _by_linear_id(outputs, "output"))


def _by_linear_id(orders: Sequence[OrderState], where: str) -> dict[str, OrderState]:
    found: dict[str, OrderState] = {}
    for order in orders:
        key = order.linear_id.id
        if key in found:
            raise MatchViolation(
                f"two {where} orders share linear id {order.linear_id}; each order may appear "
                "once in a match"
            )
        found[key] = order
    return found


def _check_fills(
    fills: Sequence[Fill], orders: dict[str, OrderState], rules: MarketRules
) -> Counter[str]:
    traded: Counter[str] = Counter()
    for index, fill in enumerate(fills):
        bid = _order(orders, fill.bid_id, BidState, index)
        offer = _order(orders, fill.offer_id, OfferState, index)
        if bid.energy_type != offer.energy_type:
            raise EnergyTypeViolation(
                f"fill {index} trades a {bid.energy_type} bid against a {offer.energy_type} offer"
            )
        if bid.currency != offer.currency:
            raise CurrencyViolation(
                f"fill {index} pairs a bid in {bid.currency} with an offer in {offer.currency}"
            )
        price = fill.price_per_kwh
        if price > bid.limit_price_per_kwh:
            raise PriceViolation(
                f"fill {index} trades at {price} per kWh, above bid {fill.bid_id}'s limit "
                f"price {bid.limit_price_per_kwh}"
            )
        if price < offer.limit_price_per_kwh:
            raise PriceViolation(
                f"fill {index} trades at {price} per kWh, below offer {fill.offer_id}'s limit "
                f"price {offer.limit_price_per_kwh}"
            )
        rules.check_price(bid.energy_type, price, f"fill {index}'s price")
        traded[fill.bid_id.id] += fill.quantity_wh
        traded[fill.offer_id.id] += fill.quantity_wh
    return traded


def _order(
    orders: dict[str, OrderState], order_id: UniqueIdentifier, kind: type[OrderState], index: int
) -> OrderState:
    order = orders.get(order_id.id)
    if order is None or type(order) is not kind:
        raise MatchViolation(
            f"fill {index} names {kind.kind} {order_id}, which is not an input "
            f"{kind.__name__} of this match"
        )
    return order


def _check_residuals(
    orders: dict[str, OrderState], traded: Counter[str], residuals: dict[str, OrderState]
) -> None:
    for order_id in residuals:
        if order_id not in orders:
            raise MatchViolation(
                f"output order {order_id} is not the residual of an input order; place new "
                "orders with PlaceBid or PlaceOffer"
            )
    for order_id, order in orders.items():
        remaining = order.max_quantity_wh - traded[order_id]
        residual = residuals.get(order_id)
        if remaining == 0:
            if residual is not None:
                raise MatchViolation(
                    f"{order.kind} {order_id} trades its whole {order.max_quantity_wh} Wh, so "
                    "it must not leave a residual order"
                )
            continue
        if residual is None:
            raise MatchViolation(
                f"{order.kind} {order_id} has {remaining} Wh left after the match but no "
                "residual order; output it with max quantity reduced to what is left"
            )
        changed = changed_fields(order.with_max_quantity(remaining), residual)
        if changed:
            raise MatchViolation(
                f"the residual of {order.kind} {order_id} must be the input order with max "
                f"quantity {remaining} Wh; it differs in {', '.join(changed)}"
            )
