"""Time windows: [from, until) in aware datetimes, either bound open but not both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from dlt.crypto import SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import ComponentGroup, MalformedTransactionError, TimeWindow, WireTransaction
from fixtures.vectors import wire_transaction

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)


def test_a_window_needs_at_least_one_bound():
    with pytest.raises(ValidationError, match="at least one bound"):
        TimeWindow()


def test_from_must_be_before_until():
    with pytest.raises(ValidationError, match="before its until_time"):
        TimeWindow.between(NOON + HOUR, NOON)


def test_an_empty_window_is_refused():
    with pytest.raises(ValidationError, match="before its until_time"):
        TimeWindow.between(NOON, NOON)


@pytest.mark.parametrize(
    "bounds",
    [
        {"from_time": datetime(2026, 6, 1, 12)},
        {"until_time": datetime(2026, 6, 1, 12)},
        {"from_time": NOON, "until_time": datetime(2026, 6, 1, 13)},
    ],
    ids=["naive-from", "naive-until", "naive-until-with-aware-from"],
)
def test_naive_bounds_are_refused(bounds):
    with pytest.raises(ValidationError, match="timezone-aware"):
        TimeWindow(**bounds)


def test_the_start_is_inside_the_window():
    assert TimeWindow.between(NOON, NOON + HOUR).contains(NOON)


def test_the_end_is_outside_the_window():
    window = TimeWindow.between(NOON, NOON + HOUR)

    assert not window.contains(NOON + HOUR)
    assert window.contains(NOON + HOUR - MICROSECOND)


def test_an_instant_before_the_start_is_outside_the_window():
    assert not TimeWindow.between(NOON, NOON + HOUR).contains(NOON - MICROSECOND)


def test_a_window_open_at_the_end_contains_everything_from_its_start():
    window = TimeWindow.from_only(NOON)

    assert window.until_time is None
    assert window.contains(NOON)
    assert window.contains(datetime(9999, 1, 1, tzinfo=UTC))
    assert not window.contains(NOON - MICROSECOND)


def test_a_window_open_at_the_start_contains_everything_before_its_end():
    window = TimeWindow.until_only(NOON)

    assert window.from_time is None
    assert window.contains(datetime(1970, 1, 1, tzinfo=UTC))
    assert not window.contains(NOON)


def test_contains_compares_instants_not_wall_clock_times():
    window = TimeWindow.between(NOON, NOON + HOUR)
    half_past_noon_in_paris = datetime(2026, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))

    assert window.contains(half_past_noon_in_paris)


def test_with_tolerance_spans_the_tolerance_either_side():
    window = TimeWindow.with_tolerance(NOON, timedelta(minutes=5))

    assert window.from_time == NOON - timedelta(minutes=5)
    assert window.until_time == NOON + timedelta(minutes=5)


def test_a_zero_tolerance_is_refused_as_an_empty_window():
    with pytest.raises(ValidationError, match="before its until_time"):
        TimeWindow.with_tolerance(NOON, timedelta(0))


def test_between_sets_both_bounds():
    window = TimeWindow.between(NOON, NOON + HOUR)

    assert (window.from_time, window.until_time) == (NOON, NOON + HOUR)


def test_the_text_form_shows_open_bounds_as_infinities():
    assert str(TimeWindow.from_only(NOON)) == "[2026-06-01T12:00:00+00:00, +inf)"
    assert str(TimeWindow.until_only(NOON)) == "[-inf, 2026-06-01T12:00:00+00:00)"


@pytest.mark.parametrize(
    "window",
    [
        TimeWindow.between(NOON, NOON + HOUR + MICROSECOND),
        TimeWindow.from_only(NOON),
        TimeWindow.until_only(NOON),
    ],
    ids=["between", "from-only", "until-only"],
)
def test_a_window_round_trips_through_its_encoding(window):
    assert decode(encode(window), TimeWindow) == window


def test_a_window_is_frozen():
    window = TimeWindow.from_only(NOON)

    with pytest.raises(ValidationError, match="frozen"):
        window.from_time = NOON + HOUR  # type: ignore[misc]


def test_a_transaction_without_inputs_whose_time_window_is_not_a_time_window_is_refused():
    tx = wire_transaction()
    groups = {group: list(tx.components(group)) for group in ComponentGroup}
    groups[ComponentGroup.INPUTS] = []
    groups[ComponentGroup.REFERENCES] = []
    groups[ComponentGroup.TIMEWINDOW] = [encode(SecureHash.sha256(b"not a window"))]

    with pytest.raises(MalformedTransactionError, match="TIMEWINDOW"):
        WireTransaction(groups, tx.privacy_salt)


def test_a_transaction_whose_time_window_is_not_a_time_window_is_refused_at_construction():
    tx = wire_transaction()
    groups = {group: list(tx.components(group)) for group in ComponentGroup}
    groups[ComponentGroup.TIMEWINDOW] = [encode(SecureHash.sha256(b"not a window"))]

    with pytest.raises(MalformedTransactionError, match="TIMEWINDOW"):
        WireTransaction(groups, tx.privacy_salt)
