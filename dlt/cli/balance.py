"""`dlt vault balance`: what a node's own identity holds, and what it bought and sold.

    dlt vault balance --node consumer-1 [--json] [--no-trades]

Built from the ordinary RPC: the node's identity, every unconsumed state of its vault and
(for trades) every transaction it recorded, decoded here with the installed CorDapps and
added up by their `dlt.holdings` rules (see `dlt.cli.holdings`). States owned by the node
are its holdings; states it only participates in (energy it issued that consumers now own,
say) are listed apart, by owner.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlt.cli.endpoints import (
    add_connection_options,
    all_states,
    all_transactions,
    call_node,
    print_json,
)
from dlt.cli.holdings import Balance, HoldingRules, Total, Trade, installed_rules
from dlt.cli.main import EXIT_OK, CommandError
from dlt.cli.table import table
from dlt.crypto import parse_public_key
from dlt.ledger import SignedTransaction, StateAndRef
from dlt.rpc.client import PeerInfo, RpcClient, TransactionInfo, VaultStateInfo

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register_command(vault: Subparsers) -> None:
    """Add `balance` to the `vault` group's commands."""
    balance = vault.add_parser(
        "balance",
        help="what the node's own identity holds, and what it bought and sold",
        description="Add up the node's unconsumed states per asset: energy per type and "
        "delivery window (Wh), money per issuer and currency (minor units). States the node "
        "only participates in, owned by others, are listed apart. Trades show what was paid "
        "for each delivery, read from the transaction that settled it.",
    )
    balance.add_argument(
        "--trades",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also read every recorded transaction for trades (default; --no-trades is "
        "quicker on a large vault)",
    )
    balance.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_connection_options(balance)
    balance.set_defaults(handler=balance_command)


@dataclass(frozen=True)
class VaultContents:
    identity: PeerInfo
    states: list[VaultStateInfo]
    transactions: list[TransactionInfo]


async def fetch(client: RpcClient, *, trades: bool) -> VaultContents:
    """The node's identity, all its unconsumed states and, if asked, all its transactions."""
    identity = await client.node_info()
    states = await all_states(client)
    transactions = await all_transactions(client) if trades else []
    return VaultContents(identity, states, transactions)


def balance_of(contents: VaultContents, rules: Sequence[HoldingRules]) -> Balance:
    """The contents added up by `rules`; states no rule can decode are counted by type."""
    balance = Balance(us=parse_public_key(contents.identity.owning_key))
    for info in contents.states:
        try:
            sar = info.state.decode()
        except ValueError:  # a DecodingError, or a type no CorDapp here registered
            sar = None
        state = sar.state.data if isinstance(sar, StateAndRef) else None
        balance.add_state(info.state_type, state, rules)
    for tx in contents.transactions:
        try:
            stx = tx.transaction.decode()
            if isinstance(stx, SignedTransaction):
                balance.add_transaction(stx, rules)
        except ValueError:  # components of types no CorDapp here registered
            continue
    return balance


def balance_command(args: argparse.Namespace) -> int:
    """Handler of `dlt vault balance`."""
    rules = installed_rules()
    if not rules:
        raise CommandError(
            "no installed CorDapp says how its states add up (entry points 'dlt.holdings'); "
            "install the CorDapp in the environment that runs dlt"
        )

    async def work(client: RpcClient) -> VaultContents:
        return await fetch(client, trades=args.trades)

    contents = call_node(args, work)
    balance = balance_of(contents, rules)
    if args.json:
        print_json(balance.json(contents.identity.name))
    else:
        print(render_balance(balance, contents.identity.name, trades=args.trades))
    return EXIT_OK


def render_balance(balance: Balance, party: str, *, trades: bool = True) -> str:
    """The balance as headed tables: holdings per asset, trades, then others' assets."""
    sections = [f"Balance of {party}"]
    for asset in balance.assets():
        owned = [t for t in balance.owned.values() if t.first.asset == asset]
        if owned:
            sections.append(_totals(f"{asset.capitalize()} held", owned))
    if not balance.owned:
        sections.append("Holds nothing.")
    if trades:
        sections += _trades(balance.trades)
    for asset in balance.assets():
        others = [t for t in balance.participating.values() if t.first.asset == asset]
        if others:
            title = f"{asset.capitalize()} owned by others, in the vault as a participant"
            sections.append(_totals(title, others))
    if balance.uncounted:
        counts = ", ".join(f"{n} {name}" for name, n in sorted(balance.uncounted.items()))
        sections.append(f"Also in the vault, not counted: {counts}.")
    return "\n\n".join(sections)


def _totals(title: str, totals: list[Total]) -> str:
    first = totals[0].first
    owner = ["owner"] if totals[0].owner is not None else []
    headers = [*owner, *(f.name.replace("_", " ") for f in first.facets), first.unit, "states"]
    rows = [
        [
            *([total.owner] if total.owner is not None else []),
            *(facet.label for facet in total.first.facets),
            total.amount,
            total.states,
        ]
        for total in sorted(totals, key=lambda t: (t.owner or "", t.first.group))
    ]
    return f"{title}:\n{table(headers, rows)}"


def _trades(trades: list[Trade]) -> list[str]:
    if not trades:
        return ["No trades."]
    sections = []
    by_asset: dict[str, list[Trade]] = defaultdict(list)
    for trade in trades:
        by_asset[trade.goods.asset].append(trade)
    for asset, group in by_asset.items():
        first = group[0]
        headers = [
            "tx",
            "side",
            "counterparty",
            *(f.name.replace("_", " ") for f in first.goods.facets),
            first.goods.unit,
            f"price {first.price_unit}",
            "paid",
            "currency",
        ]
        rows = [
            [
                trade.tx_id,
                trade.side,
                trade.counterparty,
                *(facet.label for facet in trade.goods.facets),
                trade.goods.amount,
                trade.price,
                trade.paid,
                trade.currency,
            ]
            for trade in group
        ]
        sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for trade in group:
            total = sums[(trade.side, trade.goods.unit, trade.currency)]
            total[0] += trade.goods.amount
            total[1] += trade.paid
        lines = [
            f"{side} {amount} {unit} for {paid} {currency} minor units"
            for (side, unit, currency), (amount, paid) in sorted(sums.items())
        ]
        title = f"{asset.capitalize()} trades (what was paid):"
        sections.append("\n".join([title, table(headers, rows), *lines]))
    return sections
