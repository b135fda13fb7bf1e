"""How a CorDapp's states add up in `dlt vault balance`, and what was paid for them.

The platform cannot know which field of a state is an amount, what it is counted per, or
which command records a price: the CorDapp says so with a `HoldingRules` object registered
under the entry-point group `dlt.holdings` in its package metadata, e.g.

    [project.entry-points."dlt.holdings"]
    energy = "cordapp_energy.holdings:RULES"

The command loads the rules only when it runs, so `dlt` imports no CorDapp by name.
Everything here is pure: it sees decoded states and transactions, never the RPC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal, Protocol

from dlt.crypto import PublicKey
from dlt.identity import AbstractParty
from dlt.ledger import ContractState, SignedTransaction

ENTRY_POINT_GROUP = "dlt.holdings"

JsonValue = Any


@dataclass(frozen=True)
class Facet:
    """One thing a holding is counted per: `value` in full for JSON, `label` for a table."""

    name: str
    value: JsonValue
    label: str


@dataclass(frozen=True)
class Holding:
    """What one state is worth in a balance: `amount` `unit`s of `asset`, per its facets.

    Holdings of the same asset, unit and facet values add up."""

    asset: str
    unit: str
    amount: int
    facets: tuple[Facet, ...]

    @property
    def group(self) -> tuple[str, str, str]:
        values = {facet.name: facet.value for facet in self.facets}
        return (self.asset, self.unit, json.dumps(values, sort_keys=True))


Side = Literal["bought", "sold"]


@dataclass(frozen=True)
class Trade:
    """A purchase or sale we took part in, read from the transaction that settled it."""

    tx_id: str
    side: Side
    counterparty: str
    goods: Holding
    """What changed hands (the amount is what was delivered to the buyer)."""
    price: int
    price_unit: str
    paid: int
    """Money the transaction gives the seller, in `currency` minor units."""
    currency: str


class HoldingRules(Protocol):
    """What a CorDapp tells `dlt vault balance`; both methods ignore what they do not know."""

    def holding(self, state: ContractState) -> Holding | None:
        """The state's worth, or None when it is not an asset (an order, an agreement)."""
        ...

    def trades(self, stx: SignedTransaction, us: PublicKey) -> Iterable[Trade]:
        """The trades in `stx` in which the holder of key `us` bought or sold."""
        ...


def installed_rules() -> list[HoldingRules]:
    """The rules of every installed CorDapp that declares some (importing it registers its
    ledger types, so its states and transactions can be decoded)."""
    return [point.load() for point in entry_points(group=ENTRY_POINT_GROUP)]


def owner_key(state: ContractState) -> PublicKey | None:
    """The key of the state's owner, for states that have one."""
    owner = getattr(state, "owner", None)
    return owner.owning_key if isinstance(owner, AbstractParty) else None


def owner_name(state: ContractState) -> str:
    owner = getattr(state, "owner", None)
    name = getattr(owner, "name", None)
    if name is not None:
        return str(name)
    return f"key {owner.owning_key.fingerprint}" if isinstance(owner, AbstractParty) else ""


@dataclass
class Total:
    """Holdings of one group added up."""

    first: Holding
    owner: str | None = None
    amount: int = 0
    states: int = 0

    def json(self) -> dict[str, JsonValue]:
        data: dict[str, JsonValue] = {"asset": self.first.asset}
        if self.owner is not None:
            data["owner"] = self.owner
        data.update(
            {
                **{facet.name: facet.value for facet in self.first.facets},
                "unit": self.first.unit,
                "amount": self.amount,
                "states": self.states,
            }
        )
        return data


@dataclass
class Balance:
    """A vault's unconsumed states, from the point of view of the holder of key `us`."""

    us: PublicKey
    owned: dict[tuple[str, ...], Total] = field(default_factory=dict)
    participating: dict[tuple[str, ...], Total] = field(default_factory=dict)
    """Assets owned by others that we are a participant of (e.g. energy we issued)."""
    uncounted: dict[str, int] = field(default_factory=dict)
    """State types no CorDapp counts, or that could not be decoded here, and how many."""
    trades: list[Trade] = field(default_factory=list)

    def add_state(
        self, state_type: str, state: ContractState | None, rules: Sequence[HoldingRules]
    ) -> None:
        holding = None if state is None else _first(rule.holding(state) for rule in rules)
        if state is None or holding is None:
            self.uncounted[state_type] = self.uncounted.get(state_type, 0) + 1
            return
        if owner_key(state) == self.us:
            total = self.owned.setdefault(holding.group, Total(holding))
        else:
            owner = owner_name(state)
            key = (owner, *holding.group)
            total = self.participating.setdefault(key, Total(holding, owner=owner))
        total.amount += holding.amount
        total.states += 1

    def add_transaction(self, stx: SignedTransaction, rules: Sequence[HoldingRules]) -> None:
        for rule in rules:
            self.trades.extend(rule.trades(stx, self.us))

    def assets(self) -> list[str]:
        """Every asset that appears, in order of first appearance."""
        seen = [t.first.asset for t in (*self.owned.values(), *self.participating.values())]
        seen += [trade.goods.asset for trade in self.trades]
        return list(dict.fromkeys(seen))

    def json(self, party: str) -> dict[str, JsonValue]:
        return {
            "party": party,
            "owned": [total.json() for total in _sorted(self.owned)],
            "participating": [total.json() for total in _sorted(self.participating)],
            "uncounted": dict(sorted(self.uncounted.items())),
            "trades": [trade_json(trade) for trade in self.trades],
        }


def trade_json(trade: Trade) -> dict[str, JsonValue]:
    return {
        "tx_id": trade.tx_id,
        "side": trade.side,
        "counterparty": trade.counterparty,
        "asset": trade.goods.asset,
        **{facet.name: facet.value for facet in trade.goods.facets},
        "unit": trade.goods.unit,
        "quantity": trade.goods.amount,
        "price": trade.price,
        "price_unit": trade.price_unit,
        "paid": trade.paid,
        "currency": trade.currency,
    }


def _sorted(totals: Mapping[tuple[str, ...], Total]) -> list[Total]:
    return [totals[key] for key in sorted(totals)]


def _first(holdings: Iterable[Holding | None]) -> Holding | None:
    return next((holding for holding in holdings if holding is not None), None)
