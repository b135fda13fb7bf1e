"""Smallbank's rules: transfers conserve money; checks and deposits change it by the amount."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cordapp_bench import SmallbankOp, SmallbankRefused, apply_smallbank

balance = st.tuples(st.integers(-10_000, 10_000), st.integers(0, 10_000))
amount = st.integers(0, 20_000)


@given(
    balance, balance, amount, st.sampled_from([SmallbankOp.SEND_PAYMENT, SmallbankOp.AMALGAMATE])
)
def test_moving_money_between_two_accounts_conserves_it(payer, payee, value, op):
    try:
        after = apply_smallbank(op, [payer, payee], value)
    except SmallbankRefused:
        assert op is SmallbankOp.SEND_PAYMENT and payer[0] < value
        return
    assert sum(map(sum, after)) == sum(payer) + sum(payee)
    assert all(savings >= 0 for _, savings in after)


@given(balance, amount)
def test_a_check_costs_its_amount_plus_one_when_the_balances_do_not_cover_it(account, value):
    ((checking, savings),) = apply_smallbank(SmallbankOp.WRITE_CHECK, [account], value)

    penalty = 1 if sum(account) < value else 0
    assert (checking, savings) == (account[0] - value - penalty, account[1])


@given(balance, st.integers(-20_000, 20_000))
def test_savings_never_go_below_zero(account, value):
    try:
        ((_, savings),) = apply_smallbank(SmallbankOp.TRANSACT_SAVINGS, [account], value)
    except SmallbankRefused:
        assert account[1] + value < 0
    else:
        assert savings == account[1] + value >= 0
