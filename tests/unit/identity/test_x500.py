"""X.500 legal names: validation, text form, ledger encoding and certificate form."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given

from dlt.encoding import decode, encode
from dlt.identity import InvalidX500NameError, X500Name
from tests.unit.identity.strategies import FORBIDDEN, names


@given(names)
def test_str_and_parse_round_trip(name: X500Name) -> None:
    assert X500Name.parse(str(name)) == name


@given(names)
def test_ledger_encoding_round_trip(name: X500Name) -> None:
    assert decode(encode(name), X500Name) == name


@given(names)
def test_x509_name_round_trip(name: X500Name) -> None:
    assert X500Name.from_x509(name.to_x509()) == name


def test_parse_accepts_any_attribute_order_and_spacing() -> None:
    parsed = X500Name.parse("c=GB ,  L=Leeds,O=Alice Solar, CN=broker")
    assert parsed == X500Name("Alice Solar", "Leeds", "GB", common_name="broker")
    assert str(parsed) == "CN=broker, O=Alice Solar, L=Leeds, C=GB"


@pytest.mark.parametrize("missing", ["O", "L", "C"])
def test_missing_required_attribute_is_refused(missing: str) -> None:
    parts = {"O": "Alice Solar", "L": "Leeds", "C": "GB"}
    del parts[missing]
    text = ", ".join(f"{k}={v}" for k, v in parts.items())
    with pytest.raises(InvalidX500NameError, match=f"missing required attribute.*{missing}"):
        X500Name.parse(text)


@pytest.mark.parametrize("country", ["gb", "GBR", "G", "G1", "12"])
def test_invalid_country_is_refused(country: str) -> None:
    with pytest.raises(InvalidX500NameError, match=r"^C (must be a two-letter|is at most 2)"):
        X500Name("Alice Solar", "Leeds", country)


@pytest.mark.parametrize(
    ("kwargs", "limit"),
    [
        ({"organisation": "x" * 129}, 128),
        ({"locality": "x" * 65}, 64),
        ({"common_name": "x" * 65}, 64),
    ],
)
def test_too_long_value_is_refused(kwargs: dict[str, str], limit: int) -> None:
    fields = {"organisation": "Alice Solar", "locality": "Leeds", "country": "GB", **kwargs}
    with pytest.raises(InvalidX500NameError, match=f"at most {limit} bytes"):
        X500Name(**fields)


def test_longest_allowed_organisation_is_accepted() -> None:
    assert X500Name("x" * 128, "Leeds", "GB").organisation == "x" * 128


@pytest.mark.parametrize("char", [*FORBIDDEN, "\n", "\x00"])
def test_forbidden_character_is_refused(char: str) -> None:
    with pytest.raises(InvalidX500NameError, match="not allowed"):
        X500Name(f"Alice{char}Solar", "Leeds", "GB")


def test_surrounding_white_space_is_refused() -> None:
    with pytest.raises(InvalidX500NameError, match="white space"):
        X500Name(" Alice Solar", "Leeds", "GB")


def test_empty_value_is_refused() -> None:
    with pytest.raises(InvalidX500NameError, match="non-empty"):
        X500Name("", "Leeds", "GB")


def test_duplicate_attribute_is_refused() -> None:
    with pytest.raises(InvalidX500NameError, match="more than once"):
        X500Name.parse("O=Alice Solar, O=Bob Wind, L=Leeds, C=GB")


def test_unknown_attribute_is_refused() -> None:
    with pytest.raises(InvalidX500NameError, match="unsupported attribute 'EMAIL'"):
        X500Name.parse("O=Alice Solar, L=Leeds, C=GB, EMAIL=a@example.com")


def test_attribute_without_value_separator_is_refused() -> None:
    with pytest.raises(InvalidX500NameError, match="expected ATTRIBUTE=value"):
        X500Name.parse("O=Alice Solar, Leeds, C=GB")


def test_x509_name_with_unsupported_attribute_is_refused() -> None:
    name = x509.Name(
        [
            *X500Name("Alice Solar", "Leeds", "GB").to_x509(),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@example.com"),
        ]
    )
    with pytest.raises(InvalidX500NameError, match="unsupported or repeated"):
        X500Name.from_x509(name)


def test_equal_names_have_equal_hashes() -> None:
    first = X500Name.parse("O=Alice Solar, L=Leeds, C=GB")
    second = X500Name.parse("C=GB, L=Leeds, O=Alice Solar")
    assert first == second
    assert hash(first) == hash(second)


def test_names_are_immutable() -> None:
    name = X500Name("Alice Solar", "Leeds", "GB")
    with pytest.raises(AttributeError, match="immutable"):
        name.organisation = "Mallory"  # type: ignore[misc]


def test_length_limits_count_utf8_bytes_as_certificates_do() -> None:
    with pytest.raises(InvalidX500NameError, match="at most 64 bytes in UTF-8, got 66"):
        X500Name("Alice Solar", "Leeds", "GB", common_name="é" * 33)
