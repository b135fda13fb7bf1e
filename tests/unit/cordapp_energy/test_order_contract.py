"""OrderContract: placing, cancelling and clearing bids and offers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from cordapp_energy import (
    ORDER_CONTRACT,
    Cancel,
    DeliveryWindow,
    EnergyType,
    EnergyTypeViolation,
    Fill,
    Match,
    MatchViolation,
    OrderState,
    PartyViolation,
    PlaceBid,
    PlaceOffer,
    PriceViolation,
    QuantityViolation,
    ShapeViolation,
    SignerViolation,
    WindowViolation,
)
from dlt.ledger import StateAndRef, TransactionBuilder

from .support import (
    CONSUMER,
    DAY,
    NEIGHBOUR,
    OPERATOR,
    bid,
    builder,
    commit,
    offer,
    place,
    rejection,
)


def placing(order: OrderState, command=None, signer=None) -> TransactionBuilder:
    command = command or (PlaceBid() if order.kind == "bid" else PlaceOffer())
    key = (signer or order.owner).owning_key
    return builder().add_output_state(order).add_command(command, key)


def fill(buy: StateAndRef, sell: StateAndRef, quantity_wh: int, price: int) -> Fill:
    return Fill(
        bid_id=buy.state.data.linear_id,
        offer_id=sell.state.data.linear_id,
        quantity_wh=quantity_wh,
        price_per_kwh=price,
    )


def residuals(orders: Sequence[StateAndRef], fills: Sequence[Fill]) -> list[OrderState]:
    traded: Counter[str] = Counter()
    for f in fills:
        traded[f.bid_id.id] += f.quantity_wh
        traded[f.offer_id.id] += f.quantity_wh
    left = []
    for sar in orders:
        order = sar.state.data
        remaining = order.max_quantity_wh - traded[order.linear_id.id]
        if remaining > 0:
            left.append(order.with_max_quantity(remaining))
    return left


def matching(
    orders: Sequence[StateAndRef],
    fills: Sequence[Fill],
    outputs: Sequence[OrderState] | None = None,
    signer=OPERATOR,
) -> TransactionBuilder:
    tx = builder()
    for sar in orders:
        tx.add_input_state(sar)
    for order in residuals(orders, fills) if outputs is None else outputs:
        tx.add_output_state(order)
    return tx.add_command(Match(fills=tuple(fills)), signer.public_key)


# -- placing ------------------------------------------------------------------------------


def test_bid_within_the_rules_signed_by_its_owner_is_placed(ledger):
    placed = place(ledger, bid(2_000, 25))

    assert placed.state.contract == ORDER_CONTRACT
    assert placed.state.data.participants == (CONSUMER.party, OPERATOR.party)


def test_offer_within_the_rules_signed_by_its_owner_is_placed(ledger):
    assert place(ledger, offer(2_000, 15)).state.data.kind == "offer"


def test_order_not_signed_by_its_owner_is_rejected(ledger):
    error = rejection(ledger, placing(bid(), signer=OPERATOR.party))

    assert error.contract == ORDER_CONTRACT
    assert isinstance(error.__cause__, SignerViolation)
    assert "the bid's owner O=Bob Home" in error.reason


def test_order_naming_another_market_operator_is_rejected(ledger):
    order = bid().model_copy(update={"market_operator": NEIGHBOUR.party})

    error = rejection(ledger, placing(order))

    assert isinstance(error.__cause__, PartyViolation)
    assert "operated by O=Market Operator" in error.reason


def test_bid_with_a_limit_above_the_price_band_is_rejected(ledger):
    error = rejection(ledger, placing(bid(limit=41)))

    assert isinstance(error.__cause__, PriceViolation)
    assert error.reason == (
        "limit price 41 per kWh for solar is outside the market rules' bounds [5, 40]"
    )


def test_offer_with_a_limit_below_the_price_band_is_rejected(ledger):
    error = rejection(ledger, placing(offer(limit=3, energy_type=EnergyType.WIND)))

    assert isinstance(error.__cause__, PriceViolation)
    assert "for wind is outside the market rules' bounds [4, 35]" in error.reason


@pytest.mark.parametrize("quantity_wh", [99, 50_001])
def test_order_quantity_outside_the_order_limits_is_rejected(ledger, quantity_wh):
    error = rejection(ledger, placing(offer(quantity_wh)))

    assert isinstance(error.__cause__, QuantityViolation)


def test_order_for_a_window_outside_trading_hours_is_rejected(ledger):
    error = rejection(ledger, placing(bid(window=DeliveryWindow.slot(DAY, 2))))

    assert isinstance(error.__cause__, WindowViolation)
    assert "outside the market's trading hours 06:00-22:00 UTC" in error.reason


def test_order_of_an_untraded_energy_type_is_rejected(ledger):
    error = rejection(ledger, placing(bid(energy_type=EnergyType.HYDRO)))

    assert isinstance(error.__cause__, EnergyTypeViolation)


def test_place_bid_creating_an_offer_is_rejected(ledger):
    error = rejection(ledger, placing(offer(), command=PlaceBid()))

    assert isinstance(error.__cause__, ShapeViolation)
    assert "exactly one BidState" in error.reason


# -- cancelling ---------------------------------------------------------------------------


def test_owner_cancels_an_order(ledger):
    placed = place(ledger, bid())

    assert (
        commit(ledger, builder().add_input_state(placed).add_command(Cancel(), CONSUMER.public_key))
        == []
    )


def test_cancel_by_anyone_but_the_owner_is_rejected(ledger):
    placed = place(ledger, bid())
    tx = builder().add_input_state(placed).add_command(Cancel(), OPERATOR.public_key)

    assert isinstance(rejection(ledger, tx).__cause__, SignerViolation)


def test_cancel_leaving_an_order_behind_is_rejected(ledger):
    placed = place(ledger, bid())
    tx = builder().add_input_state(placed).add_output_state(placed.state.data)
    tx.add_command(Cancel(), CONSUMER.public_key)

    assert isinstance(rejection(ledger, tx).__cause__, ShapeViolation)


# -- matching -----------------------------------------------------------------------------


@pytest.fixture
def book(ledger):
    """Two bids (2000 Wh at 25, 1000 Wh at 18) and two offers (1500 at 15, 2000 at 20)."""
    return (
        place(ledger, bid(2_000, 25)),
        place(ledger, bid(1_000, 18, owner=NEIGHBOUR)),
        place(ledger, offer(1_500, 15)),
        place(ledger, offer(2_000, 20, owner=NEIGHBOUR)),
    )


def test_match_within_limits_leaves_residual_orders(ledger, book):
    high, low, cheap, dear = book
    fills = [fill(high, cheap, 1_500, 20), fill(high, dear, 500, 20)]

    outputs = commit(ledger, matching(book, fills))

    left = {o.state.data.linear_id: o.state.data.max_quantity_wh for o in outputs}
    assert left == {low.state.data.linear_id: 1_000, dear.state.data.linear_id: 1_500}


def test_match_with_no_trades_returns_every_order_as_its_own_receipt(ledger, book):
    outputs = commit(ledger, matching(book, []))

    assert [o.state.data for o in outputs] == [sar.state.data for sar in book]


def test_match_not_signed_by_the_market_operator_is_rejected(ledger, book):
    high, _, cheap, _ = book

    error = rejection(ledger, matching(book, [fill(high, cheap, 100, 20)], signer=CONSUMER))

    assert isinstance(error.__cause__, SignerViolation)
    assert "the market operator" in error.reason


def test_trade_above_the_bids_limit_is_rejected(ledger, book):
    _, low, cheap, _ = book

    error = rejection(ledger, matching(book, [fill(low, cheap, 500, 19)]))

    assert isinstance(error.__cause__, PriceViolation)
    assert "above bid" in error.reason and "limit price 18" in error.reason


def test_trade_below_the_offers_limit_is_rejected(ledger, book):
    high, _, _, dear = book

    error = rejection(ledger, matching(book, [fill(high, dear, 500, 19)]))

    assert isinstance(error.__cause__, PriceViolation)
    assert "below offer" in error.reason and "limit price 20" in error.reason


def test_trading_an_order_beyond_its_maximum_quantity_is_rejected(ledger, book):
    high, low, cheap, _ = book
    fills = [fill(high, cheap, 1_000, 18), fill(low, cheap, 600, 18)]

    error = rejection(ledger, matching(book, fills, outputs=residuals(book[:2], fills)))

    assert isinstance(error.__cause__, QuantityViolation)
    assert "trades 1600 Wh in this match, beyond its maximum quantity alpha of 1500" in (
        error.reason
    )


def test_match_dropping_a_partly_traded_order_is_rejected(ledger, book):
    high, _, cheap, _ = book
    fills = [fill(high, cheap, 500, 20)]

    error = rejection(ledger, matching(book, fills, outputs=residuals(book, fills)[1:]))

    assert isinstance(error.__cause__, MatchViolation)
    assert "has 1500 Wh left after the match but no residual order" in error.reason


def test_residual_with_the_wrong_quantity_is_rejected(ledger, book):
    high, _, cheap, _ = book
    fills = [fill(high, cheap, 500, 20)]
    outputs = residuals(book, fills)
    outputs[0] = outputs[0].with_max_quantity(1_600)

    error = rejection(ledger, matching(book, fills, outputs=outputs))

    assert isinstance(error.__cause__, MatchViolation)
    assert "max quantity 1500 Wh; it differs in max_quantity_wh" in error.reason


def test_residual_changing_its_limit_price_is_rejected(ledger, book):
    outputs = residuals(book, [])
    outputs[1] = outputs[1].model_copy(update={"limit_price_per_kwh": 30})

    error = rejection(ledger, matching(book, [], outputs=outputs))

    assert isinstance(error.__cause__, MatchViolation)
    assert "differs in limit_price_per_kwh" in error.reason


def test_match_creating_a_new_order_is_rejected(ledger, book):
    outputs = [*residuals(book, []), bid()]

    error = rejection(ledger, matching(book, [], outputs=outputs))

    assert isinstance(error.__cause__, MatchViolation)
    assert "is not the residual of an input order" in error.reason


def test_fill_naming_an_order_outside_the_match_is_rejected(ledger, book):
    high = book[0]
    stranger = place(ledger, offer(1_000, 10))

    error = rejection(ledger, matching(book, [fill(high, stranger, 500, 20)]))

    assert isinstance(error.__cause__, MatchViolation)
    assert "which is not an input OfferState of this match" in error.reason


def test_fill_pairing_two_bids_is_rejected(ledger, book):
    high, low, _, _ = book

    error = rejection(ledger, matching(book, [fill(high, low, 500, 20)]))

    assert isinstance(error.__cause__, MatchViolation)


def test_match_across_delivery_windows_is_rejected(ledger, book):
    later = place(ledger, offer(1_000, 10, window=DeliveryWindow.slot(DAY, 60)))

    error = rejection(ledger, matching([*book, later], []))

    assert isinstance(error.__cause__, WindowViolation)


def test_fill_across_energy_types_is_rejected(ledger, book):
    high = book[0]
    wind = place(ledger, offer(1_000, 10, energy_type=EnergyType.WIND))

    error = rejection(ledger, matching([high, wind], [fill(high, wind, 500, 20)]))

    assert isinstance(error.__cause__, EnergyTypeViolation)
    assert "solar bid against a wind offer" in error.reason
