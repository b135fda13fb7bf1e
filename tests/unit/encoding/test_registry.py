"""Typed values on the canonical encoding: registered types only, each with exactly one encoding.

`decode(encode(x)) == x` for every value the ledger holds, and `encode(decode(b)) == b` for
every byte string that decodes, so a hash or signature commits to one value and one only.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from dlt.crypto import (
    EcdsaP256PrivateKey,
    EcdsaP256PublicKey,
    Ed25519PrivateKey,
    PublicKey,
    SecureHash,
)
from dlt.encoding import (
    DecodingError,
    EncodingError,
    decode,
    encode,
    register_codec,
    registered_type,
    serializable,
    type_name_of,
)
from dlt.encoding.canonical import dumps
from dlt.identity import AbstractParty, Party, X500Name
from dlt.ledger import ContractState, StateRef, TimeWindow


@serializable("test.encoding.MeterReading")
class MeterReading(ContractState):
    """A state declaring a float field: constructing it works, putting it on the ledger must not."""

    meter: str
    kwh: float

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return ()


class Pair:
    def __init__(self, left: int, right: int) -> None:
        self.left = left
        self.right = right

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pair) and (self.left, self.right) == (other.left, other.right)

    def __hash__(self) -> int:
        return hash((self.left, self.right))


register_codec(
    "test.encoding.Pair",
    Pair,
    ["left", "right"],
    lambda pair: {"left": pair.left, "right": pair.right},
    lambda fields: Pair(fields["left"], fields["right"]),
)


class Overreporting:
    """Its codec claims one field but writes two."""


register_codec(
    "test.encoding.Overreporting",
    Overreporting,
    ["a"],
    lambda _: {"a": 1, "b": 2},
    lambda fields: Overreporting(),
)


class Underreporting:
    """Its codec claims two fields but writes one."""


register_codec(
    "test.encoding.Underreporting",
    Underreporting,
    ["a", "b"],
    lambda _: {"a": 1},
    lambda fields: Underreporting(),
)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Unit(enum.StrEnum):
    KWH = "kWh"


HASH = SecureHash.sha256(b"registry tests")


def typed(type_name: str, /, **fields: object) -> bytes:
    """Canonical bytes of a typed map, bypassing `encode` to craft what a peer could send."""
    return dumps({"$type": type_name, **fields})


def hash_value() -> dict[str, object]:
    return {"$type": "SecureHash", "sha256": HASH.bytes}


# -- strategies over the value model and registered types -----------------------------------

map_keys = st.text(max_size=8).filter(lambda key: key != "$type")
scalars = st.none() | st.booleans() | st.integers() | st.text() | st.binary()
plain_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(map_keys, children, max_size=5)
    ),
    max_leaves=25,
)
secure_hashes = st.binary(min_size=32, max_size=32).map(SecureHash)
ed25519_keys = st.binary(min_size=32, max_size=32).map(
    lambda seed: Ed25519PrivateKey.from_seed(seed).public_key
)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
p256_keys = st.integers(1, P256_ORDER - 1).map(
    lambda secret: EcdsaP256PrivateKey(ec.derive_private_key(secret, ec.SECP256R1())).public_key
)
public_keys = ed25519_keys | p256_keys
state_refs = st.builds(StateRef, txhash=secure_hashes, index=st.integers(0, 2**32))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)


@st.composite
def time_windows(draw: st.DrawFn) -> TimeWindow:
    start = draw(instants)
    shape = draw(st.sampled_from(["between", "from", "until"]))
    if shape == "from":
        return TimeWindow.from_only(start)
    if shape == "until":
        return TimeWindow.until_only(start)
    length = draw(st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=30)))
    return TimeWindow.between(start, start + length)


name_parts = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9 .&'-]{0,20}[A-Za-z0-9])?", fullmatch=True)
x500_names = st.builds(
    X500Name,
    name_parts,
    name_parts,
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    organisation_unit=st.none() | name_parts,
    common_name=st.none() | name_parts,
)
parties = st.builds(Party, name=x500_names, owning_key=public_keys)
registered_values = secure_hashes | public_keys | state_refs | time_windows() | parties
PROPERTY = settings(max_examples=100, deadline=None)


# -- what encoding refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [2.5, [1, 2.5], (1, 2.5), {"amount": 2.5}, {"a": [{"b": 0.0}]}, frozenset({0.5})],
    ids=["top-level", "in-a-list", "in-a-tuple", "in-a-map", "deeply-nested", "in-a-set"],
)
def test_floats_are_refused_wherever_they_appear(value):
    with pytest.raises(EncodingError, match="floats are not allowed"):
        encode(value)


def test_a_float_in_a_state_field_is_refused():
    reading = MeterReading(meter="M-1", kwh=1.5)

    with pytest.raises(EncodingError, match="floats are not allowed"):
        encode(reading)


@pytest.mark.parametrize("key", [1, b"k", None, HASH], ids=["int", "bytes", "none", "hash"])
def test_maps_with_non_string_keys_are_refused(key):
    with pytest.raises(EncodingError, match="map keys must be strings"):
        encode({"outer": {key: 1}})


@pytest.mark.parametrize(
    "value",
    [{"$type": "SecureHash"}, {"nested": [{"$type": "x", "a": 1}]}],
    ids=["top-level", "nested"],
)
def test_the_type_key_is_reserved(value):
    with pytest.raises(EncodingError, match="reserved"):
        encode(value)


def test_an_unregistered_class_is_refused_with_a_hint():
    class Unregistered:
        pass

    with pytest.raises(EncodingError, match=r"Unregistered is not a registered.*@serializable"):
        encode(Unregistered())


def test_a_subclass_of_a_registered_type_is_not_encoded_as_its_parent():
    class SpecialHash(SecureHash):
        pass

    with pytest.raises(EncodingError, match="not a registered ledger type"):
        encode(SpecialHash(HASH.bytes))


def test_a_codec_writing_fields_it_did_not_declare_is_refused():
    with pytest.raises(EncodingError, match="encodes fields"):
        encode(Overreporting())


def test_a_codec_leaving_out_a_declared_field_is_refused():
    with pytest.raises(EncodingError, match="encodes fields"):
        encode(Underreporting())


def test_naive_datetimes_are_refused():
    with pytest.raises(EncodingError, match="timezone-aware"):
        encode({"at": datetime(2026, 6, 1, 12)})


def test_a_type_name_cannot_be_taken_by_a_second_class():
    class Impostor:
        pass

    with pytest.raises(EncodingError, match="already registered"):
        register_codec("SecureHash", Impostor, ["sha256"], lambda _: {}, lambda _: Impostor())


# -- what decoding refuses ----------------------------------------------------------------


def test_an_unknown_type_is_refused_with_a_message_naming_it():
    with pytest.raises(DecodingError, match=r"unknown type 'acme\.Widget'.*CorDapp"):
        decode(typed("acme.Widget", size=1))


def test_a_type_name_that_is_not_a_string_is_refused():
    with pytest.raises(DecodingError, match="must be a string"):
        decode(dumps({"$type": 7, "a": 1}))


def test_a_registered_type_with_an_extra_field_is_refused():
    with pytest.raises(DecodingError, match=r"invalid SecureHash: expected fields \['sha256'\]"):
        decode(typed("SecureHash", sha256=HASH.bytes, algorithm="sha256"))


def test_a_registered_type_with_a_missing_field_is_refused():
    with pytest.raises(DecodingError, match=r"invalid test\.encoding\.Pair"):
        decode(typed("test.encoding.Pair", left=1))


def test_a_missing_field_is_refused_even_when_the_model_has_a_default_for_it():
    start = {"$type": "instant", "us": 1_000_000}

    with pytest.raises(DecodingError, match="invalid TimeWindow"):
        decode(typed("TimeWindow", from_time=start))


def test_a_field_the_type_itself_rejects_is_refused_as_a_decoding_error():
    with pytest.raises(DecodingError, match="invalid SecureHash"):
        decode(typed("SecureHash", sha256=b"too short"))


def test_a_model_field_failing_validation_is_refused_as_a_decoding_error():
    with pytest.raises(DecodingError, match="invalid StateRef"):
        decode(typed("StateRef", txhash=hash_value(), index=-1))


@pytest.mark.parametrize(
    "fields",
    [{"us": 1, "tz": "UTC"}, {"us": "1"}, {"us": True}, {}],
    ids=["extra-field", "text", "bool", "missing"],
)
def test_malformed_instants_are_refused(fields):
    with pytest.raises(DecodingError, match="invalid instant"):
        decode(typed("instant", **fields))


def test_decoding_with_an_expected_type_refuses_another_type():
    with pytest.raises(DecodingError, match="expected StateRef, got SecureHash"):
        decode(encode(HASH), StateRef)


# -- datetimes, sets, enums ---------------------------------------------------------------


def test_an_instant_is_encoded_as_microseconds_since_the_epoch():
    moment = datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)

    assert encode(moment) == dumps({"$type": "instant", "us": 1_000_005})


def test_aware_datetimes_round_trip_to_the_microsecond_and_come_back_in_utc():
    moment = datetime(
        2026, 6, 1, 17, 30, 0, 123_456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )

    decoded = decode(encode(moment))

    assert decoded == moment
    assert decoded.tzinfo is UTC
    assert decoded == datetime(2026, 6, 1, 12, 0, 0, 123_456, tzinfo=UTC)
    assert decoded.microsecond == 123_456


def test_the_same_instant_in_different_zones_has_one_encoding():
    utc = datetime(2026, 1, 1, 12, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=1)))

    assert encode(paris) == encode(utc)


def test_instants_before_the_epoch_round_trip():
    moment = datetime(1900, 2, 3, 4, 5, 6, 7, tzinfo=UTC)

    assert decode(encode(moment)) == moment


def test_sets_encode_the_same_whatever_their_iteration_order():
    first, second = {8, 16}, {16, 8}
    assert list(first) != list(second), "precondition: the two sets iterate differently"

    assert encode(first) == encode(second)
    assert encode(frozenset(first)) == encode(second)


def test_set_members_are_ordered_by_their_encoded_bytes():
    members = {"a", -1, 256, 1, b"\x00"}

    assert encode(members) == dumps([1, 256, -1, b"\x00", "a"])


def test_tuples_encode_as_lists():
    assert encode((1, "two", b"3")) == encode([1, "two", b"3"])


@pytest.mark.parametrize(
    ("member", "value"),
    [(Colour.RED, "red"), (Level.HIGH, 3), (Unit.KWH, "kWh")],
    ids=["enum", "int-enum", "str-enum"],
)
def test_enums_encode_as_their_value(member, value):
    assert encode(member) == encode(value)
    assert decode(encode({"m": member})) == {"m": value}


# -- the registry -------------------------------------------------------------------------


def test_a_registered_class_is_found_by_its_name_and_back():
    assert type_name_of(StateRef) == "StateRef"
    assert registered_type("StateRef") is StateRef


def test_looking_up_an_unknown_name_is_refused():
    with pytest.raises(DecodingError, match=r"unknown type 'acme\.Widget'"):
        registered_type("acme.Widget")


def test_asking_the_name_of_an_unregistered_class_is_refused():
    with pytest.raises(EncodingError, match="not a registered ledger type"):
        type_name_of(Colour)


def test_a_registered_non_pydantic_type_round_trips():
    assert decode(encode({"p": Pair(1, -2)})) == {"p": Pair(1, -2)}


# -- properties ---------------------------------------------------------------------------


@PROPERTY
@given(plain_values)
def test_plain_values_round_trip(value):
    assert decode(encode(value)) == value


@PROPERTY
@given(plain_values)
def test_plain_value_encodings_re_encode_to_the_same_bytes(value):
    encoded = encode(value)

    assert encode(decode(encoded)) == encoded


@PROPERTY
@given(registered_values)
def test_registered_values_round_trip(value):
    assert decode(encode(value), type(value)) == value


@PROPERTY
@given(registered_values)
def test_registered_value_encodings_re_encode_to_the_same_bytes(value):
    encoded = encode(value)

    assert encode(decode(encoded)) == encoded


@PROPERTY
@given(st.lists(registered_values, max_size=4), st.dictionaries(map_keys, parties, max_size=3))
def test_registered_values_inside_plain_containers_round_trip(items, by_name):
    value = {"items": items, "by_name": by_name}

    assert decode(encode(value)) == value


@PROPERTY
@given(public_keys)
def test_a_public_key_decodes_to_its_own_class(key):
    assert type(decode(encode(key), PublicKey)) is type(key)


@PROPERTY
@given(st.lists(st.integers(-1000, 1000) | st.text(max_size=3), unique=True), st.randoms())
def test_set_encoding_does_not_depend_on_insertion_order(members, random):
    shuffled = list(members)
    random.shuffle(shuffled)

    assert encode(set(members)) == encode(set(shuffled))


# -- known gaps: bytes that decode but are not the encoding of what they decode to ---------


def test_a_map_with_a_null_type_key_is_refused():
    with pytest.raises(DecodingError):
        decode(dumps({"$type": None, "a": 1}))


def test_an_instant_outside_the_datetime_range_is_refused_as_a_decoding_error():
    with pytest.raises(DecodingError):
        decode(typed("instant", us=10**20))


def test_a_datetime_that_could_not_be_decoded_is_refused_by_encode():
    before_year_one_utc = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))

    with pytest.raises(EncodingError, match="outside the range"):
        encode(before_year_one_utc)


@pytest.mark.parametrize("index", [True, "5"], ids=["bool", "text"])
def test_a_model_field_of_the_wrong_canonical_type_is_refused(index):
    with pytest.raises(DecodingError):
        decode(typed("StateRef", txhash=hash_value(), index=index))


def test_a_p256_key_given_as_an_uncompressed_point_is_refused():
    key = EcdsaP256PrivateKey.generate().public_key
    uncompressed = key.to_cryptography().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert EcdsaP256PublicKey(uncompressed) == key, "precondition: it is the same key"

    with pytest.raises(DecodingError):
        decode(typed("PublicKey.EcdsaP256", raw=uncompressed))


@pytest.mark.parametrize(
    "text",
    ["L=Leeds, O=Alice Solar, C=GB", "O=Alice Solar,L=Leeds,C=GB", "o=Alice Solar, L=Leeds, C=GB"],
    ids=["reordered", "unspaced", "lower-case"],
)
def test_a_name_in_a_non_canonical_text_form_is_refused(text):
    with pytest.raises(DecodingError):
        decode(typed("X500Name", name=text))
