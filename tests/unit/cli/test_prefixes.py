"""A short id stands for the one id it begins, as git resolves abbreviated commit ids."""

from __future__ import annotations

import pytest

from dlt.cli.main import CommandError
from dlt.cli.prefixes import resolve

IDS = ["3827e124195ea763", "3827e1ff00000000", "bd6902e5672479e0"]


def test_a_unique_prefix_resolves_to_its_id():
    assert resolve("bd69", IDS, "transaction") == "bd6902e5672479e0"


def test_a_prefix_is_read_without_regard_to_case():
    assert resolve("BD6902E5", IDS, "transaction") == "bd6902e5672479e0"


def test_an_ambiguous_prefix_is_refused_showing_the_candidates():
    with pytest.raises(CommandError, match=r"ambiguous \(3827e12419, 3827e1ff00\)"):
        resolve("3827e1", IDS, "transaction")


def test_a_prefix_nothing_starts_with_is_refused():
    with pytest.raises(CommandError, match="no flow starts with abcd"):
        resolve("abcd", IDS, "flow")


@pytest.mark.parametrize("prefix", ["382", "38z7e124", ""])
def test_too_short_or_not_hex_is_refused(prefix):
    with pytest.raises(CommandError, match="at least 4 hex digits"):
        resolve(prefix, IDS, "flow")
