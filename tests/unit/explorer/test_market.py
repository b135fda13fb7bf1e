"""The market page's arithmetic on the RPC's JSON renderings: books, curves, clearings,
settlements and balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dlt.rpc.client import LedgerValue, StateStatus, TransactionInfo, VaultStateInfo
from explorer import market

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
WINDOW = {"start": "2026-06-01T12:00:00Z", "end": "2026-06-01T12:15:00Z"}


def state(ref, state_type, data, *, consumed_at=None, recorded_at=T0):
    return VaultStateInfo(
        ref=ref,
        state_type=state_type,
        contract="c",
        notary="O=Notary, L=Zurich, C=CH",
        status=StateStatus.CONSUMED if consumed_at else StateStatus.UNCONSUMED,
        recorded_at=recorded_at,
        consumed_at=consumed_at,
        consuming_tx=None,
        lock_id=None,
        state=LedgerValue("StateAndRef", {"data": data}, b""),
    )


def order(ref, side, owner, quantity, price, linear_id, consumed=False):
    state_type = market.BID if side == "bid" else market.OFFER
    data = {
        "window": WINDOW,
        "max_quantity_wh": quantity,
        "limit_price_per_kwh": price,
        "energy_type": "solar",
        "currency": "EUR",
        "owner": {"name": owner},
        "linear_id": {"id": linear_id},
    }
    return state(ref, state_type, data, consumed_at=T0 + timedelta(minutes=1) if consumed else None)


def tx(tx_id, commands, inputs=()):
    return TransactionInfo(
        tx_id,
        LedgerValue(
            "SignedTransaction",
            {"id": tx_id, "inputs": list(inputs), "commands": commands, "notary": "N"},
            b"",
        ),
    )


def test_a_book_lists_open_bids_best_first_and_offers_cheapest_first() -> None:
    orders = market.orders_of(
        [
            order("a:0", "bid", "C1", 1000, 12, "b1"),
            order("b:0", "bid", "C2", 500, 20, "b2"),
            order("c:0", "offer", "P1", 800, 11, "o1"),
            order("d:0", "offer", "P2", 900, 8, "o2"),
            order("e:0", "offer", "P3", 900, 1, "o3", consumed=True),
        ]
    )
    (book,) = market.books(orders)
    assert [o.price_per_kwh for o in book.bids] == [20, 12]
    assert [o.price_per_kwh for o in book.offers] == [8, 11]


def test_a_curve_steps_through_cumulative_quantity_at_each_limit_price() -> None:
    orders = market.orders_of(
        [order("a:0", "bid", "C", 1000, 20, "x"), order("b:0", "bid", "C", 500, 12, "y")]
    )
    assert market.curve(sorted(orders, key=lambda o: -o.price_per_kwh)) == [
        (0, 20),
        (1000, 20),
        (1000, 12),
        (1500, 12),
    ]


def test_a_clearing_names_buyer_and_seller_of_each_fill_and_its_book() -> None:
    orders = market.orders_of(
        [
            order("a:0", "bid", "C1", 2500, 20, "b1", consumed=True),
            order("c:0", "offer", "P1", 3000, 8, "o1", consumed=True),
        ]
    )
    fill = {
        "bid_id": {"id": "b1"},
        "offer_id": {"id": "o1"},
        "quantity_wh": 2500,
        "price_per_kwh": 14,
    }
    match = tx("m", [{"type": market.MATCH, "data": {"fills": [fill]}}], inputs=["a:0", "c:0"])

    (clearing,) = market.clearings([match, tx("other", [])], orders)

    assert (clearing.fills[0].buyer, clearing.fills[0].seller) == ("C1", "P1")
    assert clearing.volume_wh == 2500
    assert clearing.prices == (14,)
    assert clearing.demand == ((0, 20), (2500, 20))
    assert clearing.supply == ((0, 8), (3000, 8))
    assert clearing.window_start == WINDOW["start"]


def test_settlements_come_from_settle_commands() -> None:
    settle = {
        "type": market.SETTLE,
        "data": {
            "seller": {"name": "P1"},
            "buyer": {"name": "C1"},
            "quantity_wh": 2000,
            "price_per_kwh": 15,
        },
    }
    (found,) = market.settlements([tx("s", [settle, {"type": "energy.Pay", "data": {}}])])
    assert (found.seller, found.buyer, found.quantity_wh, found.price_per_kwh) == (
        "P1",
        "C1",
        2000,
        15,
    )


def test_a_balance_rises_when_a_state_is_recorded_and_falls_when_it_is_consumed() -> None:
    money = {"amount": 1000, "currency": "EUR", "owner": {"name": "C1"}}
    change = {"amount": 700, "currency": "EUR", "owner": {"name": "C1"}}
    later = T0 + timedelta(minutes=5)
    (series,) = market.balances(
        [
            state("a:0", market.PAYMENT, money, consumed_at=later),
            state("b:0", market.PAYMENT, change, recorded_at=later),
        ]
    )
    assert series.owner == "C1"
    assert series.points == ((T0, 1000), (later, 700))
    assert series.current == 700
