"""A node's CA can only issue certificates for the legal name the doorman approved.

Each attack here is a dishonest node that holds its own, legitimately issued node CA key and
mints (with plain `cryptography`, none of our issuing checks) a certificate for another name.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import HealthCheck, given, settings

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.identity import (
    CertificatePathError,
    CertRole,
    NameConstraintError,
    X500Name,
    identity_host_name,
    issue_certificate,
    validate_path,
)
from dlt.identity.name_constraints import directory_name_within, dns_name_within
from tests.unit.identity.conftest import ALICE, BOB
from tests.unit.identity.strategies import names

DAY = timedelta(days=1)
LEAF_KEYS = {
    CertRole.TLS: EcdsaP256PrivateKey,
    CertRole.LEGAL_IDENTITY: Ed25519PrivateKey,
    CertRole.SERVICE_IDENTITY: Ed25519PrivateKey,
}


def _name_constraints(cert: x509.Certificate) -> x509.Extension[x509.NameConstraints]:
    return cert.extensions.get_extension_for_class(x509.NameConstraints)


def _mint(forge, alice, subject: x509.Name, role: CertRole, *extra) -> x509.Certificate:
    """What a dishonest Alice can make with her own node CA key and any X.509 library."""
    return forge(
        subject=subject,
        issuer=alice.node_ca_cert.subject,
        subject_key=LEAF_KEYS[role].generate(),
        signing_key=alice.node_ca_key,
        role=role,
        extra=extra,
    )


def _with_common_name(name: X500Name, common_name: str) -> X500Name:
    return X500Name(name.organisation, name.locality, name.country, common_name=common_name)


# -- issuing ---------------------------------------------------------------------------------


def test_node_ca_carries_a_critical_constraint_equal_to_its_approved_name(alice) -> None:
    extension = _name_constraints(alice.node_ca_cert)
    assert extension.critical
    assert extension.value.permitted_subtrees == [
        x509.DirectoryName(ALICE.to_x509()),
        x509.DNSName(identity_host_name(ALICE)),
    ]
    assert extension.value.excluded_subtrees is None


def test_only_node_cas_carry_name_constraints(dev_ca, alice) -> None:
    unconstrained = [dev_ca.root_cert, dev_ca.doorman_cert, alice.tls_cert]
    unconstrained.append(alice.legal_identity_cert)
    for cert in unconstrained:
        with pytest.raises(x509.ExtensionNotFound):
            _name_constraints(cert)


def test_tls_certificate_names_the_node_exactly(alice) -> None:
    assert alice.tls_cert.subject == ALICE.to_x509()
    assert not alice.tls_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)


def test_tls_certificate_carries_the_nodes_identity_host_name(alice) -> None:
    names = alice.tls_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [identity_host_name(ALICE)]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]


def test_issuing_for_another_name_under_a_node_ca_is_refused(alice) -> None:
    with pytest.raises(NameConstraintError, match="Bob Wind"):
        issue_certificate(
            issuer_cert=alice.node_ca_cert,
            issuer_key=alice.node_ca_key,
            subject=BOB,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.TLS,
            validity=DAY,
        )


def test_issuing_a_foreign_host_name_under_a_node_ca_is_refused(alice) -> None:
    with pytest.raises(NameConstraintError, match=identity_host_name(BOB)):
        issue_certificate(
            issuer_cert=alice.node_ca_cert,
            issuer_key=alice.node_ca_key,
            subject=ALICE,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.TLS,
            validity=DAY,
            subject_alt_names=[x509.DNSName(identity_host_name(BOB))],
        )


# -- the node's own subtree is accepted ------------------------------------------------------


def test_constrained_node_ca_accepts_its_tls_and_legal_identity(alice) -> None:
    validate_path(alice.tls_chain, alice.root_cert)
    validate_path(alice.legal_identity_chain, alice.root_cert)


def test_constrained_node_ca_accepts_confidential_identities(alice) -> None:
    cert, _ = alice.issue_confidential_identity()
    validate_path(alice.confidential_identity_chain(cert), alice.root_cert)


def test_constrained_node_ca_accepts_a_service_identity_for_its_name(alice) -> None:
    cert = issue_certificate(
        issuer_cert=alice.node_ca_cert,
        issuer_key=alice.node_ca_key,
        subject=ALICE,
        subject_key=Ed25519PrivateKey.generate().public_key,
        role=CertRole.SERVICE_IDENTITY,
        validity=DAY,
    )
    validate_path([cert, *alice.node_ca_chain], alice.root_cert)


# -- a foreign subject is refused at every level ---------------------------------------------


@pytest.mark.parametrize("role", sorted(LEAF_KEYS), ids=lambda role: role.name)
def test_node_ca_cannot_mint_another_nodes_name(forge, alice, role: CertRole) -> None:
    impostor = _mint(forge, alice, BOB.to_x509(), role)
    with pytest.raises(NameConstraintError) as refused:
        validate_path([impostor, *alice.node_ca_chain], alice.root_cert)
    message = str(refused.value)
    assert "O=Bob Wind, L=York, C=GB" in message
    assert "O=Alice Solar, L=Leeds, C=GB" in message
    assert "\n" not in message


def test_node_ca_cannot_mint_its_name_with_another_nodes_broker_common_name(forge, alice) -> None:
    """The old broker identity: Alice's own name with Bob's CN in front of it."""
    old_style = _with_common_name(ALICE, "node-0123456789abcdef0123456789abcdef")
    impostor = _mint(forge, alice, old_style.to_x509(), CertRole.TLS)
    with pytest.raises(NameConstraintError, match="node-0123456789abcdef"):
        validate_path([impostor, *alice.node_ca_chain], alice.root_cert)


def test_node_ca_cannot_mint_a_case_variant_of_its_own_name(forge, alice) -> None:
    variant = X500Name("ALICE SOLAR", "Leeds", "GB")
    impostor = _mint(forge, alice, variant.to_x509(), CertRole.LEGAL_IDENTITY)
    with pytest.raises(NameConstraintError):
        validate_path([impostor, *alice.node_ca_chain], alice.root_cert)


def test_node_ca_cannot_mint_another_name_in_a_directory_alt_name(forge, alice) -> None:
    san = x509.SubjectAlternativeName([x509.DirectoryName(BOB.to_x509())])
    impostor = _mint(forge, alice, ALICE.to_x509(), CertRole.TLS, (san, False))
    with pytest.raises(NameConstraintError, match="Bob Wind"):
        validate_path([impostor, *alice.node_ca_chain], alice.root_cert)


def test_node_ca_cannot_mint_another_nodes_identity_host_name(forge, alice) -> None:
    san = x509.SubjectAlternativeName([x509.DNSName(identity_host_name(BOB))])
    impostor = _mint(forge, alice, ALICE.to_x509(), CertRole.TLS, (san, False))
    with pytest.raises(NameConstraintError, match=identity_host_name(BOB)):
        validate_path([impostor, *alice.node_ca_chain], alice.root_cert)


def test_legal_identity_cannot_certify_a_confidential_identity_for_another_name(
    forge, alice
) -> None:
    impostor = forge(
        subject=BOB.to_x509(),
        issuer=alice.legal_identity_cert.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=alice.legal_identity_key,
        role=CertRole.CONFIDENTIAL_IDENTITY,
    )
    with pytest.raises(NameConstraintError, match="Bob Wind"):
        validate_path([impostor, *alice.legal_identity_chain], alice.root_cert)


def test_a_sub_ca_under_the_node_ca_does_not_escape_the_constraint(forge, alice) -> None:
    """The constraint binds the whole subtree, not only the node CA's direct children."""
    sub_key = Ed25519PrivateKey.generate()
    sub_ca = forge(
        subject=ALICE.to_x509(),
        issuer=alice.node_ca_cert.subject,
        subject_key=sub_key,
        signing_key=alice.node_ca_key,
        role=CertRole.LEGAL_IDENTITY,
        ca=True,
    )
    impostor = forge(
        subject=BOB.to_x509(),
        issuer=sub_ca.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=sub_key,
        role=CertRole.CONFIDENTIAL_IDENTITY,
    )
    with pytest.raises(NameConstraintError, match="Bob Wind"):
        validate_path([impostor, sub_ca, *alice.node_ca_chain], alice.root_cert)


# -- an unconstrained (or wrongly constrained) node CA is never trusted ------------------------


def _node_ca(forge, dev_ca, name: X500Name, *extra):
    key = EcdsaP256PrivateKey.generate()
    cert = forge(
        subject=name.to_x509(),
        issuer=dev_ca.doorman_cert.subject,
        subject_key=key,
        signing_key=dev_ca.doorman_key,
        role=CertRole.NODE_CA,
        ca=True,
        extra=extra,
    )
    return cert, key


def test_node_ca_without_name_constraints_is_refused(forge, dev_ca) -> None:
    node_ca, key = _node_ca(forge, dev_ca, ALICE)
    own = forge(
        subject=ALICE.to_x509(),
        issuer=node_ca.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=key,
        role=CertRole.LEGAL_IDENTITY,
    )
    chain = [own, node_ca, dev_ca.doorman_cert]
    with pytest.raises(NameConstraintError, match="no name constraints"):
        validate_path(chain, dev_ca.root_cert)
    with pytest.raises(NameConstraintError, match="no name constraints"):
        validate_path(chain[1:], dev_ca.root_cert)


def test_node_ca_with_non_critical_name_constraints_is_refused(forge, dev_ca) -> None:
    constraints = x509.NameConstraints([x509.DirectoryName(ALICE.to_x509())], None)
    node_ca, _ = _node_ca(forge, dev_ca, ALICE, (constraints, False))
    with pytest.raises(NameConstraintError, match="critical"):
        validate_path([node_ca, dev_ca.doorman_cert], dev_ca.root_cert)


@pytest.mark.parametrize(
    "permitted",
    [
        [x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB")]))],
        [x509.DirectoryName(BOB.to_x509()), x509.DNSName(identity_host_name(ALICE))],
        [x509.DirectoryName(ALICE.to_x509())],
        [x509.DirectoryName(ALICE.to_x509()), x509.DNSName("invalid")],
    ],
    ids=["wider", "other-name", "no-host-name", "all-host-names"],
)
def test_node_ca_constrained_to_anything_but_its_own_name_is_refused(
    forge, dev_ca, permitted
) -> None:
    node_ca, _ = _node_ca(forge, dev_ca, ALICE, (x509.NameConstraints(permitted, None), True))
    with pytest.raises(NameConstraintError, match="Alice Solar"):
        validate_path([node_ca, dev_ca.doorman_cert], dev_ca.root_cert)


def test_constraints_of_a_kind_this_network_does_not_check_are_refused(forge, dev_ca) -> None:
    permitted = [
        x509.DirectoryName(ALICE.to_x509()),
        x509.DNSName(identity_host_name(ALICE)),
        x509.RFC822Name("alice.example"),
    ]
    node_ca, _ = _node_ca(forge, dev_ca, ALICE, (x509.NameConstraints(permitted, None), True))
    with pytest.raises(CertificatePathError, match="RFC822Name"):
        validate_path([node_ca, dev_ca.doorman_cert], dev_ca.root_cert)


def test_the_constraint_extension_is_understood_as_critical(alice) -> None:
    oids = [ext.oid for ext in alice.node_ca_cert.extensions if ext.critical]
    assert ExtensionOID.NAME_CONSTRAINTS in oids
    validate_path(alice.node_ca_chain, alice.root_cert)


# -- subtree semantics, over many names ------------------------------------------------------


@given(names)
def test_a_name_is_within_its_own_subtree(name: X500Name) -> None:
    assert directory_name_within(name.to_x509(), name.to_x509())


@given(names, names)
def test_a_legal_name_is_never_within_another_legal_names_subtree(a: X500Name, b: X500Name) -> None:
    assert directory_name_within(b.to_x509(), a.to_x509()) == (a == b)


@given(names)
def test_extending_a_name_on_the_right_keeps_it_in_the_subtree(name: X500Name) -> None:
    longer = x509.Name([*name.to_x509(), x509.NameAttribute(NameOID.SERIAL_NUMBER, "7")])
    assert directory_name_within(longer, name.to_x509())
    assert not directory_name_within(name.to_x509(), longer)


@given(names, names)
def test_identity_host_names_are_distinct_and_mutually_outside(a: X500Name, b: X500Name) -> None:
    host_a, host_b = identity_host_name(a), identity_host_name(b)
    assert dns_name_within(host_a, host_a)
    assert dns_name_within(host_b.upper(), host_b)
    assert dns_name_within(f"x.{host_a}", host_a)
    assert dns_name_within(host_b, host_a) == (a == b)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)
@given(names, names)
def test_a_doorman_issued_node_ca_only_validates_its_own_name(dev_ca, forge, a, b) -> None:
    node = dev_ca.enrol_node(a)
    validate_path(node.tls_chain, node.root_cert)
    validate_path(node.legal_identity_chain, node.root_cert)
    minted = forge(
        subject=b.to_x509(),
        issuer=node.node_ca_cert.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=node.node_ca_key,
        role=CertRole.LEGAL_IDENTITY,
    )
    if a == b:
        validate_path([minted, *node.node_ca_chain], node.root_cert)
    else:
        with pytest.raises(NameConstraintError):
            validate_path([minted, *node.node_ca_chain], node.root_cert)
