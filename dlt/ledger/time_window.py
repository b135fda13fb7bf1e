"""Time windows: when a transaction may be notarised, checked against the notary's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Self

from pydantic import model_validator

from dlt.encoding import serializable
from dlt.ledger.states import LedgerModel


@serializable("TimeWindow")
class TimeWindow(LedgerModel):
    """[from_time, until_time): either bound may be open, not both."""

    from_time: datetime | None = None
    until_time: datetime | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.from_time is None and self.until_time is None:
            raise ValueError("a time window needs at least one bound")
        for bound in (self.from_time, self.until_time):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("time window bounds must be timezone-aware (use UTC)")
        if self.from_time and self.until_time and self.from_time >= self.until_time:
            raise ValueError("a time window's from_time must be before its until_time")
        return self

    @classmethod
    def between(cls, from_time: datetime, until_time: datetime) -> TimeWindow:
        return cls(from_time=from_time, until_time=until_time)

    @classmethod
    def from_only(cls, from_time: datetime) -> TimeWindow:
        return cls(from_time=from_time)

    @classmethod
    def until_only(cls, until_time: datetime) -> TimeWindow:
        return cls(until_time=until_time)

    @classmethod
    def with_tolerance(cls, instant: datetime, tolerance: timedelta) -> TimeWindow:
        return cls(from_time=instant - tolerance, until_time=instant + tolerance)

    def contains(self, instant: datetime) -> bool:
        if self.from_time is not None and instant < self.from_time:
            return False
        return self.until_time is None or instant < self.until_time

    def __str__(self) -> str:
        start = self.from_time.isoformat() if self.from_time else "-inf"
        end = self.until_time.isoformat() if self.until_time else "+inf"
        return f"[{start}, {end})"
