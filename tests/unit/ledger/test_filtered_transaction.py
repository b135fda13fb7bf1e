"""Filtered transactions reveal chosen components, provably, and cannot hide a complete group."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.crypto import SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import (
    ComponentGroup,
    ComponentVisibilityError,
    FilteredGroup,
    FilteredTransaction,
    FilteredTransactionError,
    StateRef,
    notary_view,
)

from .test_wire_transaction import ref, transfer


def test_notary_view_reveals_inputs_time_window_and_notary_only():
    tx = transfer(references=[ref(5)])

    view = notary_view(tx)
    view.verify()

    assert view.id == tx.id
    assert view.inputs == tx.inputs
    assert view.references == tx.references
    assert view.notary == tx.notary
    assert view.time_window == tx.time_window
    assert view.revealed(ComponentGroup.OUTPUTS, object) == ()
    assert view.revealed(ComponentGroup.COMMANDS, object) == ()


def test_notary_view_proves_inputs_references_time_window_and_notary_complete():
    view = notary_view(transfer())
    view.verify()

    for group in (
        ComponentGroup.INPUTS,
        ComponentGroup.REFERENCES,
        ComponentGroup.TIMEWINDOW,
        ComponentGroup.NOTARY,
    ):
        view.check_complete(group)


def test_partly_revealed_group_is_not_complete():
    tx = transfer()
    only_first = FilteredTransaction.build(
        tx, lambda group, c: group == ComponentGroup.INPUTS and c == tx.inputs[0]
    )
    only_first.verify()

    with pytest.raises(ComponentVisibilityError, match="INPUTS"):
        only_first.check_complete(ComponentGroup.INPUTS)


def test_unrevealed_non_empty_group_is_not_complete():
    view = notary_view(transfer())

    with pytest.raises(ComponentVisibilityError, match="OUTPUTS"):
        view.check_complete(ComponentGroup.OUTPUTS)


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 9),
    data=st.data(),
)
def test_a_group_claimed_complete_cannot_hide_any_component(count, data):
    tx = transfer(inputs=[ref(i) for i in range(count)])
    hidden = data.draw(st.integers(0, count - 1), label="hidden input")
    hidden_ref = tx.inputs[hidden]
    filtered = FilteredTransaction.build(
        tx, lambda group, c: group == ComponentGroup.INPUTS and c != hidden_ref
    )

    with pytest.raises(ComponentVisibilityError):
        filtered.verify()
        filtered.check_complete(ComponentGroup.INPUTS)


def test_swapping_a_revealed_component_breaks_verification():
    tx = transfer()
    view = notary_view(tx)
    inputs = next(g for g in view.groups if g.group == ComponentGroup.INPUTS)
    forged_input = encode(StateRef(txhash=SecureHash.sha256(b"other"), index=0))
    forged = FilteredGroup(
        group=inputs.group,
        components=(forged_input, *inputs.components[1:]),
        nonces=inputs.nonces,
        proof=inputs.proof,
    )
    others = [g for g in view.groups if g.group != ComponentGroup.INPUTS]

    with pytest.raises(FilteredTransactionError, match="do not prove"):
        FilteredTransaction(view.id, view.group_roots, [forged, *others]).verify()


def test_group_roots_that_do_not_hash_to_the_id_are_refused():
    view = notary_view(transfer())
    roots = list(view.group_roots)
    roots[ComponentGroup.OUTPUTS] = SecureHash.sha256(b"forged")

    with pytest.raises(FilteredTransactionError, match="do not hash to transaction id"):
        FilteredTransaction(view.id, roots, view.groups).verify()


def test_filtered_transaction_round_trips_through_its_encoding():
    view = notary_view(transfer())

    decoded = decode(encode(view), FilteredTransaction)
    decoded.verify()

    assert decoded.id == view.id
    assert decoded.inputs == view.inputs
