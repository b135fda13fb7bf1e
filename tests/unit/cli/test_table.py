"""Tables fit the terminal: widths 80, 120 and 200, wrapping, hashes shortened as git does."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlt.cli.table import MIN_ABBREV, PIPE_WIDTH, abbreviations, key_values, table, terminal_width

HEADERS = ("ref", "type", "status", "recorded (UTC)", "fields")
FIELDS = (
    "owner=O=Consumer 1, L=York, C=GB, energy_type=solar, quantity_wh=2000, "
    "window=start=2026-12-01T08:30:00Z, end=2026-12-01T08:45:00Z, price_per_kwh=15, "
    "currency=EUR, issuer=O=Producer 1, L=Leeds, C=GB"
)


def tx_id(seed: int) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest()


def vault_rows(count: int = 4) -> list[tuple[object, ...]]:
    return [
        (f"{tx_id(i)}:{i % 3}", "energy.EnergyState", "unconsumed", "2026-12-01 08:21:29", FIELDS)
        for i in range(count)
    ]


def column_text(lines: list[str], header: str) -> str:
    """Every line's text under `header` (from its start to the next column), joined."""
    start = lines[0].index(header.upper())
    return " ".join(line[start:].strip() for line in lines[2:] if len(line) > start)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_line_of_a_vault_table_fits_the_width(width):
    lines = table(HEADERS, vault_rows(), width=width).splitlines()

    assert max(len(line) for line in lines) <= width


@pytest.mark.parametrize("width", [80, 120])
def test_a_long_field_wraps_onto_more_lines_without_losing_any_of_it(width):
    lines = table(HEADERS, vault_rows(1), width=width).splitlines()

    assert len(lines) > 3
    assert "".join(column_text(lines, "fields").split()) == "".join(FIELDS.split())


def test_at_200_columns_each_row_that_fits_stays_on_one_line():
    rows = [(*row[:4], FIELDS[:120]) for row in vault_rows(3)]

    lines = table(HEADERS, rows, width=200).splitlines()

    assert len(lines) == 2 + 3
    assert lines[2].endswith(FIELDS[:120].rstrip())


@pytest.mark.parametrize("width", [80, 120, 200])
def test_labels_and_numbers_are_never_broken_while_text_wraps(width):
    rows = [("energy.PaymentState", 99_942, FIELDS), ("energy.EnergyState", 7, "short")]

    lines = table(("type", "amount", "fields"), rows, width=width).splitlines()

    assert lines[2].split()[:2] == ["energy.PaymentState", "99942"]
    assert any(line.split()[:2] == ["energy.EnergyState", "7"] for line in lines)


def test_numbers_are_right_aligned_under_their_header():
    lines = table(("name", "wh"), [("a", 5), ("b", 12_345)], width=80).splitlines()

    assert lines[0].endswith("WH")
    assert lines[2].endswith("    5")
    assert lines[3].endswith("12345")


def test_a_ref_column_shows_the_shortest_unique_hash_prefix_and_the_output_index():
    rows = vault_rows(4)

    lines = table(HEADERS, rows, width=120).splitlines()

    refs = [line.split()[0] for line in lines[2:] if line[:1].strip()]
    assert refs == [f"{tx_id(i)[:MIN_ABBREV]}:{i % 3}" for i in range(4)]


def test_hashes_sharing_a_prefix_are_lengthened_until_they_differ():
    first = "abcdef0123456789" + "0" * 48
    second = "abcdef0123456789" + "1" * 48

    lines = table(("id",), [(first,), (second,)], width=80).splitlines()

    assert [line.strip() for line in lines[2:]] == [first[:17], second[:17]]


def test_a_hash_inside_text_is_shortened_like_the_others():
    rows = [(f"transaction {tx_id(1)}",), (f"amqps://host/#queue=p2p.inbound.{tx_id(2)}",)]

    lines = table(("outcome",), rows, width=80).splitlines()

    assert [line.strip() for line in lines[2:]] == [
        f"transaction {tx_id(1)[:MIN_ABBREV]}",
        f"amqps://host/#queue=p2p.inbound.{tx_id(2)[:MIN_ABBREV]}",
    ]


def test_hex_that_is_part_of_a_longer_word_is_not_taken_for_a_hash():
    word = f"key:Z{tx_id(3)}"

    lines = table(("key",), [(word,)], width=200).splitlines()

    assert lines[2] == word


@given(st.sets(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), min_size=1))
def test_abbreviated_hashes_are_unique_and_no_longer_than_needed(hashes):
    length = abbreviations(hashes)

    assert length >= MIN_ABBREV
    assert len({h[:length] for h in hashes}) == len(hashes)
    if length > MIN_ABBREV:
        assert len({h[: length - 1] for h in hashes}) < len(hashes)


def test_piped_output_carries_no_escape_codes_and_no_trailing_spaces():
    text = table(HEADERS, vault_rows(), width=80)

    assert "\x1b" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_the_header_is_upper_case_and_underlined():
    lines = table(("name", "role"), [("broker", "message broker")], width=80).splitlines()

    assert lines[0].split() == ["NAME", "ROLE"]
    assert re.fullmatch(r"-+ +-+", lines[1])


def test_no_rows_shows_the_empty_text():
    assert table(HEADERS, [], empty="no states", width=80) == "no states"


def test_key_values_wrap_a_long_value_under_its_start():
    lines = key_values([("id", "x"), ("settlements", FIELDS)], width=80).splitlines()

    assert lines[0] == "id:          x"
    assert lines[1].startswith("settlements: owner=O=Consumer 1")
    assert len(lines) > 2
    assert all(line.startswith(" " * 13) for line in lines[2:])
    assert all(len(line) <= 80 for line in lines)


def test_width_is_columns_when_set(monkeypatch):
    monkeypatch.setenv("COLUMNS", "97")

    assert terminal_width() == 97


def test_width_is_the_pipe_width_when_output_is_not_a_terminal(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)

    assert terminal_width() == PIPE_WIDTH
