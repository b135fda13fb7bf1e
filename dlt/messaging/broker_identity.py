"""The broker user a node is: its TLS certificate's subject, rendered exactly as RabbitMQ does.

The broker logs a client in by the full subject of its certificate (SASL EXTERNAL with
`ssl_cert_login_from = distinguished_name`), and the node CA's name constraints bind that subject
to the legal name the doorman approved, so a node cannot choose its broker user. RabbitMQ renders
the subject with `rabbit_cert_info:format_rdn_sequence` (3.10, read from the installed code): the
RDNs in reverse order of their encoding, joined by "," without spaces, each `TYPE=value` with
RFC 4514 escapes and every byte of the UTF-8 value outside 32..125 as `\\XX` (upper-case hex).
For the characters an X500Name allows that rendering is one-to-one: a backslash, comma, plus or
equals sign can never come from a value, so no two names share a user.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509
from cryptography.x509.oid import NameOID

from dlt.identity import X500Name

# RabbitMQ's table of short attribute names; any other type is written as its dotted OID.
_SHORT_NAMES: dict[x509.ObjectIdentifier, str] = {
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GIVENNAME",
    NameOID.INITIALS: "INITIALS",
    NameOID.GENERATION_QUALIFIER: "GENERATIONQUALIFIER",
    NameOID.COMMON_NAME: "CN",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.TITLE: "TITLE",
    NameOID.COUNTRY_NAME: "C",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.PSEUDONYM: "PSEUDONYM",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.EMAIL_ADDRESS: "EMAILADDRESS",
    NameOID.USER_ID: "UID",
}
_BACKSLASHED = frozenset(b'"+,;<>\\')


@lru_cache(maxsize=4096)
def broker_user_name(name: X500Name) -> str:
    """The broker user of the node whose legal name is `name` (its TLS certificate's subject).
    Cached: every inbound message maps its user id back to a peer through it."""
    return rabbitmq_subject(name.to_x509())


def rabbitmq_subject(subject: x509.Name) -> str:
    """A certificate subject as RabbitMQ renders it for `ssl_cert_login_from = distinguished_name`
    (and in the `user_id` it then requires on every message a client publishes)."""
    return ",".join(
        "+".join(_attribute(attribute) for attribute in rdn) for rdn in reversed(subject.rdns)
    )


def _attribute(attribute: x509.NameAttribute[str | bytes]) -> str:
    short = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
    value = attribute.value
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return f"{short}={_escape(raw)}"


def _escape(value: bytes) -> str:
    """rabbit_cert_info:escape_rdn_value over the value's bytes."""
    out = []
    for index, byte in enumerate(value):
        if index == 0 and byte in b" #":
            out.append("\\" + chr(byte))
        elif byte == 0x20 and index == len(value) - 1:
            out.append("\\ ")
        elif byte in _BACKSLASHED:
            out.append("\\" + chr(byte))
        elif byte < 32 or byte >= 126:
            out.append(f"\\{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)
