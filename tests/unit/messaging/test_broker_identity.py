"""The broker user name: a node's certificate subject, rendered as RabbitMQ renders it."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given

from dlt.identity import X500Name
from dlt.messaging.broker_identity import broker_user_name, rabbitmq_subject
from tests.unit.identity.strategies import names


@pytest.mark.parametrize(
    ("name", "user"),
    [
        (X500Name("Alice Solar", "Leeds", "GB"), "C=GB,L=Leeds,O=Alice Solar"),
        (
            X500Name(
                "Bob", "York", "GB", organisation_unit="Grid", common_name="Unit 7", state="NY"
            ),
            "C=GB,ST=NY,L=York,O=Bob,OU=Grid,CN=Unit 7",
        ),
        (X500Name("Énergie", "Zürich", "CH"), "C=CH,L=Z\\C3\\BCrich,O=\\C3\\89nergie"),
        (X500Name("A~B 'C' & D", "St. Ives", "GB"), "C=GB,L=St. Ives,O=A\\7EB 'C' & D"),
    ],
    ids=["plain", "every-attribute", "non-ascii", "punctuation"],
)
def test_known_names_render_as_rabbitmq_renders_them(name: X500Name, user: str) -> None:
    assert broker_user_name(name) == user


def test_rfc4514_specials_are_escaped_as_rabbitmq_escapes_them() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, '#a,b+c"d;e<f>g\\h '),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        ]
    )
    assert rabbitmq_subject(subject) == 'C=GB,O=\\#a\\,b\\+c\\"d\\;e\\<f\\>g\\\\h\\ '


def test_unknown_attribute_types_are_written_as_dotted_oids() -> None:
    subject = x509.Name([x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), "x")])
    assert rabbitmq_subject(subject) == "2.5.4.97=x"


@given(names)
def test_a_user_name_is_printable_ascii(name: X500Name) -> None:
    user = broker_user_name(name)
    assert user.isascii() and user.isprintable()


@given(names, names)
def test_distinct_names_are_distinct_users(a: X500Name, b: X500Name) -> None:
    assert (broker_user_name(a) == broker_user_name(b)) == (a == b)
