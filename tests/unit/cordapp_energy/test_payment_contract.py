"""PaymentContract: issue, pay (conserved per issuer and currency) and exit."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordapp_energy import (
    PAYMENT_CONTRACT,
    ConservationViolation,
    Currency,
    Exit,
    IssuePayment,
    Pay,
    ShapeViolation,
    SignerViolation,
)
from dlt.ledger import StateAndRef, TransactionBuilder

from .support import (
    BANK,
    CONSUMER,
    NEIGHBOUR,
    OTHER_BANK,
    PRODUCER,
    builder,
    commit,
    issue_money,
    money,
    new_ledger,
    rejection,
)


def pay(sources: list[StateAndRef], *outputs, signers=None) -> TransactionBuilder:
    tx = builder(with_rules=False)
    for source in sources:
        tx.add_input_state(source)
    for output in outputs:
        tx.add_output_state(output)
    keys = signers or {s.state.data.owner.owning_key for s in sources}
    return tx.add_command(Pay(), *keys)


def test_issuance_signed_by_the_issuer_verifies(ledger):
    outputs = commit(
        ledger,
        builder(with_rules=False)
        .add_output_state(money(700, CONSUMER.party))
        .add_output_state(money(300, NEIGHBOUR.party))
        .add_command(IssuePayment(), BANK.public_key),
    )

    assert [o.state.data.amount for o in outputs] == [700, 300]


def test_issuance_not_signed_by_the_issuer_is_rejected(ledger):
    tx = builder(with_rules=False).add_output_state(money(700, CONSUMER.party))
    tx.add_command(IssuePayment(), CONSUMER.public_key)

    error = rejection(ledger, tx)

    assert error.contract == PAYMENT_CONTRACT
    assert isinstance(error.__cause__, SignerViolation)
    assert "the payment issuer O=Grid Bank" in error.reason


def test_issuance_consuming_money_is_rejected(ledger):
    cash = issue_money(ledger, 100, CONSUMER)
    tx = builder(with_rules=False).add_input_state(cash)
    tx.add_output_state(money(200, CONSUMER.party))
    tx.add_command(IssuePayment(), BANK.public_key)

    assert isinstance(rejection(ledger, tx).__cause__, ShapeViolation)


def test_payment_conserving_the_amount_verifies(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    outputs = commit(ledger, pay([cash], money(400, PRODUCER.party), money(600, CONSUMER.party)))

    assert [(o.state.data.owner, o.state.data.amount) for o in outputs] == [
        (PRODUCER.party, 400),
        (CONSUMER.party, 600),
    ]


def test_payment_creating_money_is_rejected(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, pay([cash], money(1_001, PRODUCER.party)))

    assert isinstance(error.__cause__, ConservationViolation)
    assert "should total 1000 in the outputs, not 1001" in error.reason


def test_payment_cannot_swap_one_issuers_money_for_anothers(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, pay([cash], money(1_000, PRODUCER.party, OTHER_BANK)))

    assert isinstance(error.__cause__, ConservationViolation)
    assert "issued by O=Grid Bank" in error.reason


def test_payment_cannot_change_the_currency(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, pay([cash], money(1_000, PRODUCER.party, currency="EUR")))

    assert isinstance(error.__cause__, ConservationViolation)


def test_payment_not_signed_by_the_owner_of_the_money_is_rejected(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)
    tx = pay([cash], money(1_000, PRODUCER.party), signers=[PRODUCER.public_key])

    error = rejection(ledger, tx)

    assert isinstance(error.__cause__, SignerViolation)
    assert "owner O=Bob Home" in error.reason


def test_payment_spending_nothing_is_rejected(ledger):
    tx = pay([], money(5, PRODUCER.party), signers=[CONSUMER.public_key])

    assert isinstance(rejection(ledger, tx).__cause__, ShapeViolation)


def exit_(
    sources: list[StateAndRef], amount: int, *outputs, issuer_signs: bool = True
) -> TransactionBuilder:
    tx = builder(with_rules=False)
    for source in sources:
        tx.add_input_state(source)
    for output in outputs:
        tx.add_output_state(output)
    keys = [s.state.data.owner.owning_key for s in sources]
    if issuer_signs:
        keys.append(BANK.public_key)
    return tx.add_command(Exit(issuer=BANK.party, currency=Currency("GBP"), amount=amount), *keys)


def test_exit_signed_by_issuer_and_owner_destroys_the_exited_amount(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    outputs = commit(ledger, exit_([cash], 250, money(750, CONSUMER.party)))

    assert [o.state.data.amount for o in outputs] == [750]


def test_exit_of_everything_leaves_no_outputs(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    assert commit(ledger, exit_([cash], 1_000)) == []


def test_exit_without_the_issuers_signature_is_rejected(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, exit_([cash], 250, money(750, CONSUMER.party), issuer_signs=False))

    assert isinstance(error.__cause__, SignerViolation)


def test_exit_of_more_than_the_inputs_hold_is_rejected(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, exit_([cash], 1_001))

    assert isinstance(error.__cause__, ConservationViolation)
    assert "spends only 1000" in error.reason


def test_exit_whose_outputs_do_not_drop_by_the_exited_amount_is_rejected(ledger):
    cash = issue_money(ledger, 1_000, CONSUMER)

    error = rejection(ledger, exit_([cash], 250, money(800, CONSUMER.party)))

    assert isinstance(error.__cause__, ConservationViolation)
    assert "should total 750 in the outputs, not 800" in error.reason


@st.composite
def payments(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Random coins in, and a random re-split of their total out."""
    coins = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
    total = sum(coins)
    cuts = draw(st.lists(st.integers(1, total - 1), max_size=4, unique=True)) if total > 1 else []
    edges = [0, *sorted(cuts), total]
    return coins, [b - a for a, b in itertools.pairwise(edges)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payments(), st.sampled_from([0, 0, 1, -1]))
def test_payment_is_accepted_exactly_when_it_conserves_money(payment, delta):
    ledger = new_ledger()
    coins, parts = payment
    sources = [issue_money(ledger, coin, CONSUMER) for coin in coins]
    parts[0] += delta
    if parts[0] <= 0:
        return
    owners = [PRODUCER.party, CONSUMER.party, NEIGHBOUR.party]
    tx = pay(sources, *(money(p, owners[i % 3]) for i, p in enumerate(parts)))

    if delta == 0:
        outputs = commit(ledger, tx)
        assert sum(o.state.data.amount for o in outputs) == sum(coins)
    else:
        assert isinstance(rejection(ledger, tx).__cause__, ConservationViolation)
