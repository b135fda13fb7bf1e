"""X.500 distinguished names of legal entities, as Corda uses them: O, L and C required."""

from __future__ import annotations

import re
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from dlt.encoding import register_codec


class InvalidX500NameError(ValueError):
    """A name that is not a valid legal-entity X.500 name; the message says which attribute."""


# attribute -> (field, maximum UTF-8 length as X.509 counts it, OID); printed in this order.
_ATTRIBUTES: dict[str, tuple[str, int, x509.ObjectIdentifier]] = {
    "CN": ("common_name", 64, NameOID.COMMON_NAME),
    "OU": ("organisation_unit", 64, NameOID.ORGANIZATIONAL_UNIT_NAME),
    "O": ("organisation", 128, NameOID.ORGANIZATION_NAME),
    "L": ("locality", 64, NameOID.LOCALITY_NAME),
    "ST": ("state", 64, NameOID.STATE_OR_PROVINCE_NAME),
    "C": ("country", 2, NameOID.COUNTRY_NAME),
}
_REQUIRED = ("O", "L", "C")
_SPECIAL = re.compile(r'[,=+<>#;"\\]')


class X500Name:
    """A validated, immutable distinguished name. `str()` and `parse()` round-trip."""

    __slots__ = (
        "_attributes",
        "_hash",
        "_text",
        "common_name",
        "country",
        "locality",
        "organisation",
        "organisation_unit",
        "state",
    )

    organisation: str
    locality: str
    country: str
    organisation_unit: str | None
    common_name: str | None
    state: str | None
    _attributes: tuple[tuple[str, str], ...]
    _hash: int
    _text: str

    def __init__(
        self,
        organisation: str,
        locality: str,
        country: str,
        *,
        organisation_unit: str | None = None,
        common_name: str | None = None,
        state: str | None = None,
    ) -> None:
        values = {
            "O": organisation,
            "L": locality,
            "C": country,
            "OU": organisation_unit,
            "CN": common_name,
            "ST": state,
        }
        for attr, value in values.items():
            field, limit, _ = _ATTRIBUTES[attr]
            if value is None:
                if attr in _REQUIRED:
                    raise InvalidX500NameError(f"{attr} is required in an X.500 name")
                object.__setattr__(self, field, None)
                continue
            _validate_value(attr, value, limit)
            object.__setattr__(self, field, value)
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise InvalidX500NameError(f"C must be a two-letter ISO 3166 code, got {country!r}")
        # Names are dictionary keys and compared on every message and lookup: work out their
        # attributes, text and hash once, as immutability allows.
        items = tuple((attr, values[attr]) for attr in _ATTRIBUTES if values[attr] is not None)
        object.__setattr__(self, "_attributes", items)
        object.__setattr__(self, "_text", ", ".join(f"{attr}={value}" for attr, value in items))
        object.__setattr__(self, "_hash", hash(items))

    @classmethod
    def parse(cls, text: str) -> X500Name:
        """Parse 'O=Alice Solar, L=Leeds, C=GB' (attributes in any order, each at most once)."""
        values: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            key = key.strip().upper()
            if not sep:
                raise InvalidX500NameError(f"expected ATTRIBUTE=value, got {part.strip()!r}")
            if key not in _ATTRIBUTES:
                allowed = ", ".join(_ATTRIBUTES)
                raise InvalidX500NameError(f"unsupported attribute {key!r}; allowed: {allowed}")
            if key in values:
                raise InvalidX500NameError(f"attribute {key} appears more than once")
            values[key] = value.strip()
        missing = [attr for attr in _REQUIRED if attr not in values]
        if missing:
            raise InvalidX500NameError(
                f"missing required attribute(s) {', '.join(missing)} in {text!r}"
            )
        return cls(
            values["O"],
            values["L"],
            values["C"],
            organisation_unit=values.get("OU"),
            common_name=values.get("CN"),
            state=values.get("ST"),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("X500Name is immutable")

    def to_x509(self) -> x509.Name:
        """The name as a certificate subject."""
        return x509.Name(
            [x509.NameAttribute(_ATTRIBUTES[attr][2], value) for attr, value in self._attributes]
        )

    @classmethod
    def from_x509(cls, name: x509.Name) -> X500Name:
        by_oid = {oid: attr for attr, (_, _, oid) in _ATTRIBUTES.items()}
        values: dict[str, str] = {}
        for attribute in name:
            attr = by_oid.get(attribute.oid)
            if attr is None or attr in values:
                raise InvalidX500NameError(f"unsupported or repeated attribute in {name}")
            values[attr] = str(attribute.value)
        return cls.parse(", ".join(f"{attr}={value}" for attr, value in values.items()))

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"X500Name({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, X500Name) and self._attributes == other._attributes

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: X500Name) -> bool:
        return str(self) < str(other)

    def comparison_key(self) -> tuple[tuple[str, str], ...]:
        """The name with case folded and runs of white space made one space: two names with
        the same key are the same name to RFC 4518 matching (and to Erlang/OTP's TLS, which
        folds Latin-1 case and spaces), so a network must never admit both."""
        return tuple((attr, " ".join(value.casefold().split())) for attr, value in self._attributes)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: object) -> X500Name:
            if isinstance(value, X500Name):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError("expected an X.500 name such as 'O=Alice Solar, L=Leeds, C=GB'")

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.to_string_ser_schema()
        )


def describe_name(name: x509.Name) -> str:
    """A name quoted as people write it ('O=Alice, L=Leeds, C=GB'), or RFC 4514 if foreign."""
    try:
        return f"'{X500Name.from_x509(name)}'"
    except InvalidX500NameError:
        return repr(name.rfc4514_string())


def _validate_value(attr: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidX500NameError(f"{attr} must be a non-empty string")
    if value != value.strip():
        raise InvalidX500NameError(f"{attr} must not start or end with white space: {value!r}")
    size = len(value.encode("utf-8"))
    if size > limit:
        raise InvalidX500NameError(f"{attr} is at most {limit} bytes in UTF-8, got {size}")
    if _SPECIAL.search(value) or not value.isprintable():
        raise InvalidX500NameError(
            f'{attr} contains a character that is not allowed (one of , = + < > # ; " \\ '
            f"or a control character): {value!r}"
        )


register_codec(
    "X500Name", X500Name, ["name"], lambda n: {"name": str(n)}, lambda f: X500Name.parse(f["name"])
)
