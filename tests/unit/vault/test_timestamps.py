"""Timestamp columns say they hold datetimes, so text filters on them are parsed as times."""

from __future__ import annotations

from datetime import UTC, datetime

from dlt.vault import UtcTimestamp


def test_a_timestamp_column_holds_datetimes():
    assert UtcTimestamp().python_type is datetime


def test_a_timestamp_is_stored_as_microseconds_since_the_epoch_and_read_back_in_utc():
    column = UtcTimestamp()
    moment = datetime(2026, 6, 1, 12, 0, 0, 250, tzinfo=UTC)

    stored = column.process_bind_param(moment, dialect=None)

    assert stored == 1_780_315_200_000_250
    assert column.process_result_value(stored, dialect=None) == moment
