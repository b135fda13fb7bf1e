"""Integer units: one rounding rule for every price, and ISO currency codes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cordapp_energy import Currency, energy_cost


def reference_cost(quantity_wh: int, price_per_kwh: int) -> int:
    """Round half up of the exact value, computed independently with Fractions."""
    exact = Fraction(quantity_wh * price_per_kwh, 1000)
    whole, rest = divmod(exact, 1)
    return int(whole) + (1 if rest >= Fraction(1, 2) else 0)


@given(st.integers(0, 10**15), st.integers(0, 10**9))
def test_energy_cost_matches_exact_round_half_up(quantity_wh, price_per_kwh):
    assert energy_cost(quantity_wh, price_per_kwh) == reference_cost(quantity_wh, price_per_kwh)


@given(st.integers(0, 10**30), st.integers(0, 10**12))
def test_energy_cost_is_an_exact_int_even_beyond_float_precision(quantity_wh, price_per_kwh):
    cost = energy_cost(quantity_wh, price_per_kwh)

    assert type(cost) is int
    assert cost == reference_cost(quantity_wh, price_per_kwh)


@pytest.mark.parametrize(
    "quantity_wh, price_per_kwh, cost",
    [(1, 500, 1), (1, 499, 0), (1_500, 1, 2), (2_500, 1, 3), (1_000, 20, 20), (0, 99, 0)],
)
def test_half_a_minor_unit_rounds_up(quantity_wh, price_per_kwh, cost):
    assert energy_cost(quantity_wh, price_per_kwh) == cost


@pytest.mark.parametrize("quantity_wh, price_per_kwh", [(1.0, 20), (1000, 20.5), (True, 20)])
def test_energy_cost_refuses_anything_but_ints(quantity_wh, price_per_kwh):
    with pytest.raises(TypeError, match="must be an int"):
        energy_cost(quantity_wh, price_per_kwh)


def test_energy_cost_refuses_negative_amounts():
    with pytest.raises(ValueError, match="must not be negative"):
        energy_cost(-1, 20)


def test_currency_is_its_iso_code():
    assert Currency("EUR") == "EUR"
    assert str(Currency("GBP")) == "GBP"


@pytest.mark.parametrize("code", ["eur", "EU", "EURO", "E1R", ""])
def test_currency_refuses_what_is_not_a_three_letter_code(code):
    with pytest.raises(ValueError, match="three-letter upper-case ISO 4217 code"):
        Currency(code)
