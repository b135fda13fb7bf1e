"""The network (peers, notary clusters with replica health and latency) and the market (order
books, clearings with their supply and demand, settlements, balances over time)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dlt.rpc.client import StateStatus, VaultQuery
from dlt.rpc.health import notary_health_async
from explorer import market
from explorer.app import page, render
from explorer.ledger_pages import all_transactions
from explorer.sessions import ReadOnlyNode, Session

VAULT_PAGE = 500
MAX_STATES = 20_000


def routes() -> list[Route]:
    return [
        Route("/network", page(network), methods=["GET"]),
        Route("/market", page(market_page), methods=["GET"]),
    ]


async def network(request: Request, session: Session) -> Response:
    network_map = await session.node.network_map()
    notaries = await notary_health_async(network_map)
    return render(request, "network.html", network_map=network_map, notaries=notaries)


async def states_of(node: ReadOnlyNode, *state_types: str) -> list:
    """Every state of these types the vault holds, consumed or not, up to MAX_STATES."""
    found: list = []
    number = 1
    while len(found) < MAX_STATES:
        query = VaultQuery(
            status=StateStatus.ALL,
            state_types=state_types,
            page_number=number,
            page_size=VAULT_PAGE,
        )
        batch = await node.vault_query(query)
        found.extend(batch.states)
        if not batch.has_next:
            break
        number += 1
    return found


async def market_page(request: Request, session: Session) -> Response:
    node = session.node
    orders = market.orders_of(await states_of(node, market.BID, market.OFFER))
    holdings = await states_of(node, market.ENERGY, market.PAYMENT)
    transactions = await all_transactions(node)
    clearings = market.clearings(transactions, orders)
    series = market.balances(holdings)
    charts = {
        f"clearing-{index}": {
            "kind": "supply-demand",
            "demand": [{"x": q, "y": p} for q, p in clearing.demand],
            "supply": [{"x": q, "y": p} for q, p in clearing.supply],
            "price": clearing.prices[0] if len(clearing.prices) == 1 else None,
            "volume": clearing.volume_wh,
        }
        for index, clearing in enumerate(clearings)
    }
    charts["balances"] = {
        "kind": "balances",
        "series": [
            {
                "label": f"{s.owner}: {s.asset}",
                "energy": s.asset.startswith("energy"),
                "points": [{"x": int(t.timestamp() * 1000), "y": v} for t, v in s.points],
            }
            for s in series
        ],
    }
    return render(
        request,
        "market.html",
        books=market.books(orders),
        clearings=clearings,
        settlements=market.settlements(transactions),
        series=series,
        charts_json=json.dumps(charts).replace("<", "\\u003c"),
    )
