"""Settle: delivery versus payment in one transaction, energy for its exact cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from cordapp_energy import (
    ENERGY_CONTRACT,
    ConservationViolation,
    EnergyState,
    PartyViolation,
    Pay,
    PaymentState,
    PriceViolation,
    QuantityViolation,
    Settle,
    SettlementViolation,
    SignerViolation,
    energy_cost,
)
from dlt.testing import InMemoryLedger, TestIdentity

from .support import (
    BANK,
    CONSUMER,
    NEIGHBOUR,
    OTHER_BANK,
    PRODUCER,
    builder,
    commit,
    energy,
    issue_energy,
    issue_money,
    money,
    rejection,
)


@dataclass
class Trade:
    """A DvP transaction's parts, valid by default; tests change one part to break a rule."""

    quantity_wh: int = 1_500
    price_per_kwh: int = 20
    held_wh: int = 4_000
    wallet: int = 1_000
    buyer: TestIdentity = CONSUMER
    payer: TestIdentity = CONSUMER
    money_issuer: TestIdentity = BANK
    settle_signers: tuple[TestIdentity, ...] = (PRODUCER, CONSUMER)
    energy_outputs: list[EnergyState] | None = None
    paid: int | None = None
    extra_money: list[PaymentState] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return energy_cost(self.quantity_wh, self.price_per_kwh)

    def build(self, ledger: InMemoryLedger):
        source = issue_energy(ledger, energy(self.held_wh))
        cash = issue_money(ledger, self.wallet, self.payer, self.money_issuer)
        paid = self.cost if self.paid is None else self.paid
        outputs = self.energy_outputs
        if outputs is None:
            outputs = [energy(self.quantity_wh, owner=self.buyer)]
            if self.held_wh > self.quantity_wh:
                outputs.append(energy(self.held_wh - self.quantity_wh))
        tx = builder().add_input_state(source).add_input_state(cash)
        for state in outputs:
            tx.add_output_state(state)
        tx.add_output_state(money(paid, PRODUCER.party, self.money_issuer))
        if self.wallet > paid:
            tx.add_output_state(money(self.wallet - paid, self.payer.party, self.money_issuer))
        settle = Settle(
            seller=PRODUCER.party,
            buyer=self.buyer.party,
            quantity_wh=self.quantity_wh,
            price_per_kwh=self.price_per_kwh,
        )
        tx.add_command(settle, *(signer.public_key for signer in self.settle_signers))
        return tx.add_command(Pay(), self.payer.public_key)


def test_settlement_moves_energy_to_the_buyer_and_its_cost_to_the_seller(ledger):
    outputs = [sar.state.data for sar in commit(ledger, Trade().build(ledger))]

    assert outputs == [
        energy(1_500, owner=CONSUMER),
        energy(2_500),
        money(30, PRODUCER.party),
        money(970, CONSUMER.party),
    ]


def test_settlement_of_a_whole_state_needs_no_remainder(ledger):
    outputs = commit(ledger, Trade(quantity_wh=4_000).build(ledger))

    assert [o.state.data for o in outputs] == [
        energy(4_000, owner=CONSUMER),
        money(80, PRODUCER.party),
        money(920, CONSUMER.party),
    ]


def test_settlement_cost_rounds_half_a_minor_unit_up(ledger):
    trade = Trade(quantity_wh=1_525)

    assert trade.cost == 31
    commit(ledger, trade.build(ledger))


def test_settlement_paying_one_minor_unit_short_is_rejected(ledger):
    error = rejection(ledger, Trade(quantity_wh=1_525, paid=30).build(ledger))

    assert error.contract == ENERGY_CONTRACT
    assert isinstance(error.__cause__, SettlementViolation)
    assert "1525 Wh at 20 per kWh costs 31 GBP minor units" in error.reason
    assert "receives 30" in error.reason


def test_settlement_paid_in_money_of_an_issuer_the_market_does_not_accept_is_rejected(ledger):
    error = rejection(ledger, Trade(money_issuer=OTHER_BANK).build(ledger))

    assert isinstance(error.__cause__, SettlementViolation)
    assert "receives 0" in error.reason


def test_settlement_paid_by_someone_other_than_the_buyer_is_rejected(ledger):
    error = rejection(ledger, Trade(payer=NEIGHBOUR).build(ledger))

    assert isinstance(error.__cause__, SettlementViolation)
    assert "the buyer O=Bob Home, L=York, C=GB pays only 0" in error.reason


def test_settlement_at_a_price_outside_the_band_is_rejected(ledger):
    error = rejection(ledger, Trade(price_per_kwh=41).build(ledger))

    assert isinstance(error.__cause__, PriceViolation)
    assert "agreed price 41 per kWh for solar" in error.reason


@pytest.mark.parametrize("signer", [PRODUCER, CONSUMER])
def test_settlement_needs_both_seller_and_buyer_to_sign(ledger, signer):
    error = rejection(ledger, Trade(settle_signers=(signer,)).build(ledger))

    assert isinstance(error.__cause__, SignerViolation)


def test_settlement_delivering_less_than_agreed_is_rejected(ledger):
    short = [energy(1_400, owner=CONSUMER), energy(2_600)]

    error = rejection(ledger, Trade(energy_outputs=short).build(ledger))

    assert isinstance(error.__cause__, QuantityViolation)
    assert "give the buyer 1400 Wh" in error.reason


def test_settlement_of_more_than_the_seller_holds_is_rejected(ledger):
    error = rejection(
        ledger,
        Trade(quantity_wh=5_000, energy_outputs=[energy(5_000, owner=CONSUMER)]).build(ledger),
    )

    assert isinstance(error.__cause__, ConservationViolation)


def test_settlement_giving_energy_to_a_third_party_is_rejected(ledger):
    leak = [energy(1_500, owner=CONSUMER), energy(2_500, owner=NEIGHBOUR)]

    error = rejection(ledger, Trade(energy_outputs=leak).build(ledger))

    assert isinstance(error.__cause__, PartyViolation)
    assert "an output goes to O=Carol Flat" in error.reason


def test_settlement_repricing_the_remainder_is_rejected(ledger):
    repriced = [energy(1_500, owner=CONSUMER), energy(2_500, price_per_kwh=30)]

    error = rejection(ledger, Trade(energy_outputs=repriced).build(ledger))

    assert isinstance(error.__cause__, ConservationViolation)
    assert "lot by lot" in error.reason


def test_settlement_of_energy_the_seller_does_not_own_is_rejected(ledger):
    theirs = issue_energy(ledger, energy(1_500, owner=NEIGHBOUR))
    cash = issue_money(ledger, 1_000, CONSUMER)
    tx = builder().add_input_state(theirs).add_input_state(cash)
    tx.add_output_state(energy(1_500, owner=CONSUMER))
    tx.add_output_state(money(30, PRODUCER.party)).add_output_state(money(970, CONSUMER.party))
    settle = Settle(
        seller=PRODUCER.party, buyer=CONSUMER.party, quantity_wh=1_500, price_per_kwh=20
    )
    tx.add_command(settle, PRODUCER.public_key, CONSUMER.public_key)
    tx.add_command(Pay(), CONSUMER.public_key)

    error = rejection(ledger, tx)

    assert isinstance(error.__cause__, PartyViolation)
    assert "owned by O=Carol Flat, L=Hull, C=GB, not the seller" in error.reason


def test_settlement_needs_two_different_parties():
    with pytest.raises(ValidationError, match="needs two parties"):
        Settle(seller=PRODUCER.party, buyer=PRODUCER.party, quantity_wh=1, price_per_kwh=1)
