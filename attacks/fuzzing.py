"""Hypothesis strategies for malformed input, drawn as a bounded, seeded list of examples.

The examples are sent to a real node afterwards (the network, not a Python assertion,
decides whether one did harm), so hypothesis is used to generate, not to shrink.
"""

from __future__ import annotations

from typing import Any, TypeVar

import cbor2
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from dlt.flows.protocol import SessionMessageKind

T = TypeVar("T")

PROTOCOLS = (
    "energy.Pay",
    "dlt.NotaryClient",
    "energy.PlaceBid",
    "attack.RaceSpend",
    "nope.Nothing",
)
TYPE_NAMES = ("flows.SessionMessage", "SignedTransaction", "notary.Submission", "energy.Payment")


def draw(strategy: st.SearchStrategy[T], count: int, run_seed: int) -> list[T]:
    """`count` examples of `strategy`, the same ones for the same seed."""
    examples: list[T] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @seed(run_seed)
    @given(strategy)
    def collect(example: T) -> None:
        examples.append(example)

    collect()
    return examples[:count]


_cbor_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=40),
    st.binary(max_size=64),
    st.floats(allow_nan=True),
)
cbor_values = st.recursive(
    _cbor_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.text(max_size=10), st.sampled_from(["$type"])), inner, max_size=5
        ),
    ),
    max_leaves=20,
)


@st.composite
def session_messages(draw_: Any) -> bytes:
    """A CBOR map shaped like a SessionMessage, each field right, wrong or missing."""
    fields: dict[str, Any] = {"$type": "flows.SessionMessage"}
    candidates = {
        "kind": st.one_of(st.sampled_from([k.value for k in SessionMessageKind]), cbor_values),
        "session_id": st.one_of(st.text(min_size=1, max_size=60), cbor_values),
        "from_initiator": st.one_of(st.booleans(), cbor_values),
        "seq": st.one_of(st.integers(min_value=-5, max_value=2**64), cbor_values),
        "protocol": st.one_of(st.sampled_from(PROTOCOLS), st.none(), cbor_values),
        "protocol_version": st.one_of(st.integers(min_value=-1, max_value=5), st.none()),
        "payload": st.one_of(st.binary(max_size=256), st.none(), payload_bytes),
    }
    for name, strategy in candidates.items():
        if draw_(st.integers(0, 9)):
            fields[name] = draw_(strategy)
    if draw_(st.booleans()):
        fields[draw_(st.text(max_size=8))] = draw_(cbor_values)
    return cbor2.dumps(fields, canonical=True)


payload_bytes = st.builds(
    lambda type_name, body: cbor2.dumps({"$type": type_name, **body}, canonical=True),
    st.sampled_from(TYPE_NAMES),
    st.dictionaries(st.text(max_size=10), cbor_values, max_size=4),
)

p2p_bodies = st.one_of(
    st.binary(max_size=512),
    st.builds(lambda v: cbor2.dumps(v), cbor_values),
    session_messages(),
)
"""Message bodies for a node's inbox: noise, arbitrary CBOR, and near-SessionMessages."""

_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.floats()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)

FLOW_FIELDS = {
    "energy.Pay": ("recipient", "amount", "currency"),
    "energy.TransferEnergy": ("ref", "new_owner"),
    "energy.CancelOrder": ("ref",),
}
"""Flows the fuzzed node cannot complete whatever the arguments (it holds no money, energy or
orders), so anything recorded is a fault, not a lucky valid example."""

_names = st.one_of(
    st.sampled_from(["O=Producer 1, L=Leeds, C=GB", "O=Nobody, L=Nowhere, C=XX", "", "O="]),
    st.text(max_size=60),
)
_refs = st.one_of(
    st.builds(
        lambda h, i: f"{h}:{i}",
        st.text("0123456789abcdef", min_size=0, max_size=70),
        st.integers(-3, 10**12),
    ),
    _json,
)
_field_values = {
    "recipient": _names,
    "new_owner": _names,
    "accomplice": _names,
    "amount": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), _json),
    "currency": st.one_of(st.sampled_from(["EUR", "eur", "EURO", ""]), _json),
    "ref": _refs,
    "refs": st.one_of(st.lists(_refs, max_size=3), _json),
    "seed": st.one_of(st.integers(), _json),
    "timeout_ms": st.one_of(st.integers(), _json),
}


@st.composite
def flow_calls(draw_: Any) -> tuple[str, dict[str, Any]]:
    """A flow name and its arguments, each right in type, wrong, missing or extra."""
    name = draw_(st.sampled_from(sorted(FLOW_FIELDS)))
    arguments: dict[str, Any] = {}
    for field in FLOW_FIELDS[name]:
        if draw_(st.integers(0, 5)):
            arguments[field] = draw_(_field_values[field])
    if draw_(st.integers(0, 4)) == 0:
        arguments[draw_(st.text(max_size=10))] = draw_(_json)
    return name, arguments


lookups = st.one_of(
    st.tuples(st.just("get_transaction"), st.text(max_size=80)),
    st.tuples(st.just("flow_status"), st.text(max_size=80)),
    st.tuples(st.just("vault_query"), st.text(max_size=40)),
)
"""RPC reads with fuzzed ids and state type names."""
