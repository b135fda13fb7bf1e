"""Integer units of the energy market: Wh, currency minor units, and minor units per kWh.

Nothing on the ledger is a float. Every price computation in contracts and flows goes through
`energy_cost`, so a buyer, a seller and every verifier always agree to the minor unit.
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

WH_PER_KWH = 1_000

_ISO_4217 = re.compile(r"[A-Z]{3}")


def _require_whole(name: str, value: int) -> None:
    # bool is an int subclass; True Wh is a bug, not a quantity.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def energy_cost(quantity_wh: int, price_per_kwh: int) -> int:
    """The price in currency minor units of `quantity_wh` at `price_per_kwh` minor units/kWh.

    Rounding rule (the only one in the CorDapp): the exact value quantity_wh * price / 1000
    is rounded half up to a whole minor unit, in exact integer arithmetic. So 1 Wh at 500/kWh
    costs 1 (0.5 rounds up) and 1 Wh at 499/kWh costs 0. Both arguments are non-negative ints.
    """
    _require_whole("quantity_wh", quantity_wh)
    _require_whole("price_per_kwh", price_per_kwh)
    return (quantity_wh * price_per_kwh + WH_PER_KWH // 2) // WH_PER_KWH


class Currency(str):
    """An ISO 4217 alphabetic code (three upper-case letters), e.g. ``Currency("EUR")``.

    It is a `str`, so it encodes on the ledger as the plain code and compares equal to it.
    Only the code's shape is checked; which currencies a market trades in is its rules' call.
    """

    __slots__ = ()

    def __new__(cls, code: str) -> Self:
        if not isinstance(code, str) or not _ISO_4217.fullmatch(code):
            raise ValueError(
                f"a currency is a three-letter upper-case ISO 4217 code such as 'EUR', got {code!r}"
            )
        return super().__new__(cls, code)

    def __repr__(self) -> str:
        return f"Currency({str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
