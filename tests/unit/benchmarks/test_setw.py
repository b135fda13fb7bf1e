"""SETW's Delivery: which delivery window it clears."""

from __future__ import annotations

from benchmarks.drivers.energy import delivery_window


def test_a_delivery_takes_the_oldest_past_window_nobody_took():
    assert delivery_window(current=3, claimed={0}, clearing=set()) == 1


def test_a_delivery_never_clears_a_window_being_cleared():
    assert delivery_window(current=0, claimed=set(), clearing=set()) == 0
    assert delivery_window(current=0, claimed=set(), clearing={0}) == 1
    assert delivery_window(current=2, claimed={0}, clearing={1}) == 2
