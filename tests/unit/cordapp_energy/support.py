"""Parties, market rules and transaction helpers shared by the energy CorDapp tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cordapp_energy import (
    MARKET_RULES_SIGNERS,
    BidState,
    Currency,
    DeliveryWindow,
    EnergyState,
    EnergyType,
    EnrolmentLimits,
    IssuePayment,
    MarketRules,
    OfferState,
    PaymentState,
    PlaceBid,
    PlaceOffer,
    PriceBand,
    QuantityLimits,
    Request,
    TradingHours,
)
from dlt.identity import AbstractParty
from dlt.ledger import (
    ContractRejectedError,
    NetworkParameters,
    SignedTransaction,
    StateAndRef,
    TransactionBuilder,
    UniqueIdentifier,
)
from dlt.testing import InMemoryLedger, TestIdentity, test_identity

PRODUCER = test_identity("O=Alice Solar, L=Leeds, C=GB")
CONSUMER = test_identity("O=Bob Home, L=York, C=GB")
NEIGHBOUR = test_identity("O=Carol Flat, L=Hull, C=GB")
OPERATOR = test_identity("O=Market Operator, L=London, C=GB")
BANK = test_identity("O=Grid Bank, L=London, C=GB")
OTHER_BANK = test_identity("O=Shadow Bank, L=Cardiff, C=GB")
NOTARY = test_identity("O=Notary, L=London, C=GB")
EVERYONE = (PRODUCER, CONSUMER, NEIGHBOUR, OPERATOR, BANK, OTHER_BANK, NOTARY)
_PRIVATE_KEYS = {identity.public_key: identity.key for identity in EVERYONE}

GBP = Currency("GBP")
DAY = datetime(2024, 6, 1, tzinfo=UTC)
NOON = DeliveryWindow.slot(DAY, 48)

RULES = MarketRules(
    version=1,
    market_operator=OPERATOR.party,
    currency=GBP,
    price_bands=(
        PriceBand(energy_type=EnergyType.SOLAR, min_price_per_kwh=5, max_price_per_kwh=40),
        PriceBand(energy_type=EnergyType.WIND, min_price_per_kwh=4, max_price_per_kwh=35),
    ),
    trading_hours=TradingHours(open_minute=6 * 60, close_minute=22 * 60),
    quantity_limits=QuantityLimits(
        min_state_wh=1, max_state_wh=100_000, min_order_wh=100, max_order_wh=50_000
    ),
    enrolment=EnrolmentLimits(
        min_consumer_balance=1_000,
        max_consumer_balance=1_000_000,
        min_producer_energy_wh=500,
        max_producer_energy_wh=200_000,
    ),
    payment_issuers=(BANK.party,),
    require_meter_readings=False,
)
"""Rules without meter attestation, for the specs of everything else; `ATTESTED_RULES` need it."""
RULES_ATTACHMENT = RULES.to_attachment(OPERATOR.key)
PARAMETERS = NetworkParameters(trusted_signers={MARKET_RULES_SIGNERS: (OPERATOR.public_key,)})
"""The network's parameters: they name the market operator."""


def new_ledger() -> InMemoryLedger:
    """A ledger with the CorDapp installed, the network's parameters accepted and the
    operator's rules imported."""
    ledger = InMemoryLedger(
        cordapps=["cordapp_energy"], parties=[i.party for i in EVERYONE], parameters=[PARAMETERS]
    )
    ledger.attachments.import_attachment(RULES_ATTACHMENT)
    return ledger


def builder(
    *, with_rules: bool = True, parameters: NetworkParameters | None = PARAMETERS
) -> TransactionBuilder:
    """A builder under the test notary pinning `parameters` (the network's by default, none
    when None) and carrying the market rules."""
    tx = TransactionBuilder(notary=NOTARY.party)
    if parameters is not None:
        tx.set_network_parameters_hash(parameters.hash)
    if with_rules:
        tx.add_attachment(RULES_ATTACHMENT.id)
    return tx


def sign(tx: TransactionBuilder) -> SignedTransaction:
    """Signed by every key the transaction requires, so only the contracts can object."""
    stx = SignedTransaction(tx.to_wire_transaction())
    for key in stx.tx.required_signing_keys:
        stx = stx.sign(_PRIVATE_KEYS[key])
    return stx


def rejection(ledger: InMemoryLedger, tx: TransactionBuilder) -> ContractRejectedError:
    """Verify a transaction the contracts must refuse; returns the refusal."""
    with pytest.raises(ContractRejectedError) as caught:
        sign(tx).verify(ledger)
    return caught.value


def commit(ledger: InMemoryLedger, tx: TransactionBuilder) -> list[StateAndRef]:
    """Sign, verify and record; returns the outputs."""
    stx = sign(tx)
    stx.verify(ledger)
    return ledger.record(stx)


def energy(
    quantity_wh: int = 4_000,
    *,
    owner: TestIdentity = PRODUCER,
    price_per_kwh: int = 20,
    energy_type: EnergyType = EnergyType.SOLAR,
    window: DeliveryWindow = NOON,
    issuer: TestIdentity = PRODUCER,
) -> EnergyState:
    return EnergyState(
        energy_type=energy_type,
        quantity_wh=quantity_wh,
        window=window,
        price_per_kwh=price_per_kwh,
        currency=GBP,
        issuer=issuer.party,
        owner=owner.party,
    )


def issue_energy(ledger: InMemoryLedger, state: EnergyState) -> StateAndRef:
    tx = builder().add_output_state(state).add_command(Request(), state.issuer.owning_key)
    return commit(ledger, tx)[0]


def money(
    amount: int, owner: AbstractParty, issuer: TestIdentity = BANK, currency: str = "GBP"
) -> PaymentState:
    return PaymentState(
        amount=amount, currency=Currency(currency), issuer=issuer.party, owner=owner
    )


def issue_money(
    ledger: InMemoryLedger, amount: int, owner: TestIdentity, issuer: TestIdentity = BANK
) -> StateAndRef:
    tx = builder(with_rules=False)
    tx.add_output_state(money(amount, owner.party, issuer))
    tx.add_command(IssuePayment(), issuer.public_key)
    return commit(ledger, tx)[0]


_order_ids = iter(range(1, 1 << 30))


def order_id() -> UniqueIdentifier:
    return UniqueIdentifier.from_bytes(next(_order_ids).to_bytes(16, "big"))


def bid(
    max_quantity_wh: int = 2_000,
    limit: int = 25,
    *,
    owner: TestIdentity = CONSUMER,
    window: DeliveryWindow = NOON,
    energy_type: EnergyType = EnergyType.SOLAR,
) -> BidState:
    return BidState(
        linear_id=order_id(),
        window=window,
        max_quantity_wh=max_quantity_wh,
        limit_price_per_kwh=limit,
        energy_type=energy_type,
        currency=GBP,
        owner=owner.party,
        market_operator=OPERATOR.party,
    )


def offer(
    max_quantity_wh: int = 2_000,
    limit: int = 15,
    *,
    owner: TestIdentity = PRODUCER,
    window: DeliveryWindow = NOON,
    energy_type: EnergyType = EnergyType.SOLAR,
) -> OfferState:
    return OfferState(
        linear_id=order_id(),
        window=window,
        max_quantity_wh=max_quantity_wh,
        limit_price_per_kwh=limit,
        energy_type=energy_type,
        currency=GBP,
        owner=owner.party,
        market_operator=OPERATOR.party,
    )


def place(ledger: InMemoryLedger, order: BidState | OfferState) -> StateAndRef:
    command = PlaceBid() if isinstance(order, BidState) else PlaceOffer()
    tx = builder().add_output_state(order).add_command(command, order.owner.owning_key)
    return commit(ledger, tx)[0]
