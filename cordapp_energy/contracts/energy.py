"""EnergyContract: issue energy, transfer it, split it, and settle it against payment (DvP)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Self

from pydantic import Field, model_validator

from cordapp_energy.contracts.common import (
    require_signer,
    require_unchanged,
    same_party,
    single_command,
)
from cordapp_energy.errors import (
    ConservationViolation,
    DoubleUsedReadingError,
    EnergyTypeViolation,
    ForeignReadingError,
    MissingReadingError,
    OverIssueError,
    PartyViolation,
    QuantityViolation,
    ReplayedReadingError,
    SettlementViolation,
    ShapeViolation,
    WindowViolation,
)
from cordapp_energy.market_rules import MarketRules, rules_in
from cordapp_energy.meters import MeterReadingState, check_meter
from cordapp_energy.states import (
    ENERGY_CONTRACT,
    DeliveryWindow,
    EnergyState,
    EnergyType,
    PaymentState,
)
from cordapp_energy.units import Currency, energy_cost
from dlt.crypto import PublicKey
from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.ledger import CommandData, CommandWithParties, Contract, LedgerTransaction, contract


@serializable("energy.Request")
class Request(CommandData):
    """Issue one energy state: no energy inputs; the producer (issuer) signs. Where the market
    rules require it, the issuer's meter reading for the window is consumed and re-output."""


@serializable("energy.Transfer")
class Transfer(CommandData):
    """Give one energy state to a new owner, changing nothing else; the current owner signs."""


@serializable("energy.Split")
class Split(CommandData):
    """Divide one energy state into several of the same lot; the owner signs."""


@serializable("energy.Settle")
class Settle(CommandData):
    """Delivery versus payment: `quantity_wh` of the seller's energy for its cost in money.

    Used together with the payment contract's Pay in the same transaction; seller and buyer
    both sign, so neither side can move without the other.
    """

    seller: Party
    buyer: Party
    quantity_wh: int = Field(gt=0, strict=True)
    price_per_kwh: int = Field(ge=0, strict=True)

    @model_validator(mode="after")
    def _two_parties(self) -> Self:
        if same_party(self.seller, self.buyer):
            raise ValueError(f"a settlement needs two parties; {self.seller} is both")
        return self

    @property
    def cost(self) -> int:
        """What the buyer owes, by the CorDapp's one rounding rule."""
        return energy_cost(self.quantity_wh, self.price_per_kwh)


ENERGY_COMMANDS: tuple[type[CommandData], ...] = (Request, Transfer, Split, Settle)

Lot = tuple[EnergyType, DeliveryWindow, PublicKey, int, Currency]


def lot(state: EnergyState) -> Lot:
    """What makes energy interchangeable: type, window, issuer, price and currency."""
    return (
        state.energy_type,
        state.window,
        state.issuer.owning_key,
        state.price_per_kwh,
        state.currency,
    )


@contract(ENERGY_CONTRACT)
class EnergyContract(Contract):
    """Energy is issued only within the market rules and never created or lost in transit."""

    def verify(self, tx: LedgerTransaction) -> None:
        command = single_command(tx, ENERGY_COMMANDS, "energy contract")
        rules = rules_in(tx)
        inputs = tx.inputs_of_type(EnergyState)
        outputs = tx.outputs_of_type(EnergyState)
        value = command.value
        if isinstance(value, Request):
            _verify_request(command, rules, inputs, outputs)
            _verify_attestation(rules, tx, outputs[0])
        elif isinstance(value, Transfer):
            _verify_transfer(command, inputs, outputs)
        elif isinstance(value, Split):
            _verify_split(command, inputs, outputs)
        elif isinstance(value, Settle):
            _verify_settle(command, value, rules, tx, inputs, outputs)


def _verify_request(
    command: CommandWithParties,
    rules: MarketRules,
    inputs: list[EnergyState],
    outputs: list[EnergyState],
) -> None:
    if inputs or len(outputs) != 1:
        raise ShapeViolation(
            "a request consumes no energy and issues exactly one energy state; found "
            f"{len(inputs)} energy inputs and {len(outputs)} energy outputs"
        )
    state = outputs[0]
    rules.check_price(state.energy_type, state.price_per_kwh)
    rules.check_currency(state.currency, "the energy's price")
    rules.check_state_quantity(state.quantity_wh)
    require_signer(command, state.issuer, "the producer (issuer)")


def _verify_attestation(rules: MarketRules, tx: LedgerTransaction, energy: EnergyState) -> None:
    """The supply invariant: energy is issued only against its issuer's meter reading for the
    same interval, and never beyond max(0, (produced - consumed) - already issued)."""
    readings = tx.inputs_of_type(MeterReadingState)
    if not readings:
        if rules.require_meter_readings:
            raise MissingReadingError(
                f"market rules version {rules.version} require a meter reading to issue energy; "
                f"consume the issuer's reading for {energy.window} (RequestEnergyFlow finds it)"
            )
        return
    if len(readings) != 1:
        raise ShapeViolation(f"issuance consumes one meter reading; found {len(readings)}")
    reading = readings[0]
    check_meter(reading, tx.network_parameters)
    if not same_party(reading.household, energy.issuer):
        raise ForeignReadingError(
            f"foreign meter reading: it is {reading.household.name}'s, but the energy's issuer "
            f"is {energy.issuer.name}; a producer issues only against its own meter"
        )
    if reading.window != energy.window:
        raise ReplayedReadingError(
            f"replayed meter reading: it attests {reading.window}, but the energy is for "
            f"{energy.window}; a reading backs energy of its own interval only"
        )
    quantity = energy.quantity_wh
    if quantity > reading.available_wh:
        terms = (
            f"{reading.produced_wh} Wh produced - {reading.consumed_wh} Wh consumed = "
            f"{reading.surplus_wh} Wh surplus for {reading.window}"
        )
        if reading.issued_wh:
            raise DoubleUsedReadingError(
                f"double-used meter reading: {terms}, of which {reading.issued_wh} Wh are already "
                f"issued, so {quantity} Wh more exceed the {reading.available_wh} Wh left"
            )
        raise OverIssueError(f"over-issue: {quantity} Wh issued against {terms}")
    after = reading.model_copy(update={"issued_wh": reading.issued_wh + quantity})
    if tx.outputs_of_type(MeterReadingState) != [after]:
        raise ShapeViolation(
            "issuing against a meter reading outputs it once more, unchanged but for issued_wh "
            f"raised by the {quantity} Wh issued (to {after.issued_wh} Wh)"
        )


def _verify_transfer(
    command: CommandWithParties, inputs: list[EnergyState], outputs: list[EnergyState]
) -> None:
    if len(inputs) != 1 or len(outputs) != 1:
        raise ShapeViolation(
            "a transfer consumes one energy state and creates one; found "
            f"{len(inputs)} energy inputs and {len(outputs)} energy outputs"
        )
    before, after = inputs[0], outputs[0]
    require_unchanged(before, after, ("owner",), "a transfer")
    if same_party(before.owner, after.owner):
        raise PartyViolation(
            f"a transfer must give the energy to a new owner; {before.owner} already owns it"
        )
    require_signer(command, before.owner, "the current owner")


def _verify_split(
    command: CommandWithParties, inputs: list[EnergyState], outputs: list[EnergyState]
) -> None:
    if len(inputs) != 1 or len(outputs) < 2:
        raise ShapeViolation(
            "a split consumes one energy state and creates two or more; found "
            f"{len(inputs)} energy inputs and {len(outputs)} energy outputs"
        )
    source = inputs[0]
    for part in outputs:
        require_unchanged(source, part, ("quantity_wh", "owner"), "a split")
    total = sum(part.quantity_wh for part in outputs)
    if total != source.quantity_wh:
        raise ConservationViolation(
            f"a split must conserve energy exactly: {source.quantity_wh} Wh in, {total} Wh out"
        )
    require_signer(command, source.owner, "the owner")


def _verify_settle(
    command: CommandWithParties,
    settle: Settle,
    rules: MarketRules,
    tx: LedgerTransaction,
    inputs: list[EnergyState],
    outputs: list[EnergyState],
) -> None:
    require_signer(command, settle.seller, "the seller")
    require_signer(command, settle.buyer, "the buyer")
    if not inputs:
        raise ShapeViolation("a settlement delivers the seller's energy; found no energy inputs")
    energy_types = {state.energy_type for state in inputs}
    if len(energy_types) != 1:
        mixed = ", ".join(sorted(energy_types))
        raise EnergyTypeViolation(f"a settlement delivers one energy type; the inputs mix {mixed}")
    if len({state.window for state in inputs}) != 1:
        raise WindowViolation(
            "a settlement delivers for one delivery window; the inputs mix several"
        )
    rules.check_price(inputs[0].energy_type, settle.price_per_kwh, "agreed price")
    for state in inputs:
        if not same_party(state.owner, settle.seller):
            raise PartyViolation(
                f"a settlement delivers the seller's energy, but an input is owned by "
                f"{state.owner}, not the seller {settle.seller}"
            )
    for state in outputs:
        if not (same_party(state.owner, settle.buyer) or same_party(state.owner, settle.seller)):
            raise PartyViolation(
                f"a settlement gives energy only to the buyer {settle.buyer} or back to the "
                f"seller; an output goes to {state.owner}"
            )
    _require_lots_conserved(inputs, outputs)
    delivered = sum(s.quantity_wh for s in outputs if same_party(s.owner, settle.buyer))
    if delivered != settle.quantity_wh:
        raise QuantityViolation(
            f"the settlement is for {settle.quantity_wh} Wh but the outputs give the buyer "
            f"{delivered} Wh (the seller's inputs hold {sum(s.quantity_wh for s in inputs)} Wh)"
        )
    _require_paid(settle, rules, tx)


def _require_lots_conserved(inputs: Iterable[EnergyState], outputs: Iterable[EnergyState]) -> None:
    balance: Counter[Lot] = Counter()
    for state in inputs:
        balance[lot(state)] += state.quantity_wh
    for state in outputs:
        balance[lot(state)] -= state.quantity_wh
    if any(balance.values()):
        raise ConservationViolation(
            "a settlement must conserve energy exactly, lot by lot (type, window, issuer, "
            "price, currency); split a remainder back to the seller rather than dropping or "
            "changing it"
        )


def _require_paid(settle: Settle, rules: MarketRules, tx: LedgerTransaction) -> None:
    def counted(states: Iterable[PaymentState], party: AbstractParty) -> int:
        return sum(
            state.amount
            for state in states
            if same_party(state.owner, party)
            and state.currency == rules.currency
            and rules.accepts_payment_from(state.issuer)
        )

    money_in = tx.inputs_of_type(PaymentState)
    money_out = tx.outputs_of_type(PaymentState)
    received = counted(money_out, settle.seller) - counted(money_in, settle.seller)
    paid = counted(money_in, settle.buyer) - counted(money_out, settle.buyer)
    cost = settle.cost
    terms = (
        f"{settle.quantity_wh} Wh at {settle.price_per_kwh} per kWh costs {cost} "
        f"{rules.currency} minor units"
    )
    if received < cost:
        raise SettlementViolation(
            f"{terms}, but the seller {settle.seller} receives {received} in money from the "
            "market's payment issuers; add a Pay to the seller for the full cost"
        )
    if paid < cost:
        raise SettlementViolation(
            f"{terms}, but the buyer {settle.buyer} pays only {paid} of it; the payment must "
            "come from the buyer's money"
        )
