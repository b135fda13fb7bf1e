"""Path validation: a chain is trusted only if every link is well issued, in role and in time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.identity import (
    BadCertificateSignatureError,
    CertificateExpiredError,
    CertificatePathError,
    CertificateRoleError,
    CertRole,
    UntrustedRootError,
    WrongIssuerError,
    X500Name,
    issue_certificate,
    validate_path,
)

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def confidential(alice):
    cert, _ = alice.issue_confidential_identity()
    return cert


def test_full_confidential_identity_chain_validates(alice, confidential) -> None:
    chain = [
        confidential,
        alice.legal_identity_cert,
        alice.node_ca_cert,
        alice.doorman_cert,
        alice.root_cert,
    ]
    validate_path(chain, alice.root_cert)


def test_chain_without_the_root_validates(alice, confidential) -> None:
    chain = alice.confidential_identity_chain(confidential)[:-1]
    validate_path(chain, alice.root_cert)


def test_tls_chain_validates(alice) -> None:
    validate_path(alice.tls_chain, alice.root_cert)


def test_network_map_certificate_validates(dev_ca) -> None:
    validate_path([dev_ca.network_map_cert], dev_ca.root_cert)


def test_empty_chain_is_refused(dev_ca) -> None:
    with pytest.raises(CertificatePathError, match="empty"):
        validate_path([], dev_ca.root_cert)


def test_certificate_issued_by_a_tls_certificate_is_refused(alice, forge) -> None:
    cert = forge(
        subject=alice.name.to_x509(),
        issuer=alice.tls_cert.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=alice.tls_key,
        role=CertRole.CONFIDENTIAL_IDENTITY,
    )
    with pytest.raises(
        CertificateRoleError,
        match=r"'O=Alice Solar, L=Leeds, C=GB' \(TLS\) is not allowed to issue "
        "CONFIDENTIAL_IDENTITY",
    ):
        validate_path([cert, *alice.tls_chain], alice.root_cert)


def test_node_ca_issued_directly_by_root_is_refused(dev_ca, forge) -> None:
    cert = forge(
        subject=X500Name("Mallory Power", "Leeds", "GB").to_x509(),
        issuer=dev_ca.root_cert.subject,
        subject_key=EcdsaP256PrivateKey.generate(),
        signing_key=dev_ca.root_key,
        role=CertRole.NODE_CA,
        ca=True,
    )
    with pytest.raises(
        CertificateRoleError,
        match=r"\(ROOT_CA\) is not allowed to issue NODE_CA \(it issued 'O=Mallory Power.*"
        "have a DOORMAN_CA certificate issue NODE_CA",
    ):
        validate_path([cert], dev_ca.root_cert)


def test_issuer_without_ca_basic_constraints_is_refused(dev_ca, forge) -> None:
    node_ca_key = EcdsaP256PrivateKey.generate()
    name = X500Name("Mallory Power", "Leeds", "GB").to_x509()
    node_ca = issue_certificate(
        issuer_cert=dev_ca.doorman_cert,
        issuer_key=dev_ca.doorman_key,
        subject=X500Name("Mallory Power", "Leeds", "GB"),
        subject_key=node_ca_key.public_key,
        role=CertRole.NODE_CA,
        validity=DAY,
    )
    not_a_ca = forge(
        subject=name,
        issuer=dev_ca.doorman_cert.subject,
        subject_key=node_ca_key,
        signing_key=dev_ca.doorman_key,
        role=CertRole.NODE_CA,
        ca=False,
        extra=((node_ca.extensions.get_extension_for_class(x509.NameConstraints).value, True),),
    )
    tls = issue_certificate(
        issuer_cert=node_ca,
        issuer_key=node_ca_key,
        subject=X500Name("Mallory Power", "Leeds", "GB"),
        subject_key=EcdsaP256PrivateKey.generate().public_key,
        role=CertRole.TLS,
        validity=DAY,
    )
    with pytest.raises(CertificateRoleError, match=r"\(NODE_CA\) is not a CA"):
        validate_path([tls, not_a_ca, dev_ca.doorman_cert], dev_ca.root_cert)


def test_certificate_without_role_is_refused(dev_ca, forge) -> None:
    cert = forge(
        subject=X500Name("Mallory Power", "Leeds", "GB").to_x509(),
        issuer=dev_ca.doorman_cert.subject,
        subject_key=EcdsaP256PrivateKey.generate(),
        signing_key=dev_ca.doorman_key,
        role=None,
        ca=True,
    )
    with pytest.raises(CertificateRoleError, match="'O=Mallory Power, L=Leeds, C=GB' has no role"):
        validate_path([cert, dev_ca.doorman_cert], dev_ca.root_cert)


def test_wrong_key_scheme_for_role_is_refused(alice, forge) -> None:
    cert = forge(
        subject=alice.name.to_x509(),
        issuer=alice.node_ca_cert.subject,
        subject_key=EcdsaP256PrivateKey.generate(),
        signing_key=alice.node_ca_key,
        role=CertRole.LEGAL_IDENTITY,
        ca=True,
    )
    with pytest.raises(
        CertificateRoleError, match=r"LEGAL_IDENTITY certificate .* needs an ed25519"
    ):
        validate_path([cert, *alice.node_ca_chain], alice.root_cert)


def test_unknown_critical_extension_is_refused(dev_ca, forge) -> None:
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00")
    cert = forge(
        subject=X500Name("Mallory Power", "Leeds", "GB").to_x509(),
        issuer=dev_ca.root_cert.subject,
        subject_key=EcdsaP256PrivateKey.generate(),
        signing_key=dev_ca.root_key,
        role=CertRole.NETWORK_MAP,
        extra=((unknown, True),),
    )
    with pytest.raises(CertificatePathError, match=r"critical extension 1\.2\.3\.4"):
        validate_path([cert], dev_ca.root_cert)


def test_expired_certificate_is_refused(alice, now) -> None:
    cert, _ = alice.issue_confidential_identity(validity=DAY, now=now)
    with pytest.raises(
        CertificateExpiredError,
        match=r"'O=Alice Solar, L=Leeds, C=GB' \(CONFIDENTIAL_IDENTITY\) expired at .* re-issued",
    ):
        validate_path(alice.confidential_identity_chain(cert), alice.root_cert, now=now + 2 * DAY)


def test_certificate_valid_until_its_last_second(alice, now) -> None:
    cert, _ = alice.issue_confidential_identity(validity=DAY, now=now)
    validate_path(alice.confidential_identity_chain(cert), alice.root_cert, now=now + DAY)


def test_not_yet_valid_certificate_is_refused(alice, now) -> None:
    cert, _ = alice.issue_confidential_identity(now=now + 2 * DAY)
    with pytest.raises(CertificateExpiredError, match=r"is not valid until .* check the clocks"):
        validate_path(alice.confidential_identity_chain(cert), alice.root_cert, now=now + DAY)


def test_expired_root_is_refused(dev_ca) -> None:
    later = dev_ca.root_cert.not_valid_after_utc + DAY
    with pytest.raises(CertificateExpiredError, match=r"\(ROOT_CA\) expired"):
        validate_path([dev_ca.doorman_cert], dev_ca.root_cert, now=later)


def test_chain_in_the_wrong_order_is_refused(alice, confidential) -> None:
    chain = [confidential, alice.legal_identity_cert, alice.doorman_cert, alice.node_ca_cert]
    with pytest.raises(WrongIssuerError, match=r"\(NODE_CA\) is issued by .*order the chain"):
        validate_path(chain, alice.root_cert)


def test_identity_and_tls_swapped_is_refused(alice) -> None:
    # Both name the node, so only the key identifiers tell them apart.
    chain = [alice.tls_cert, alice.legal_identity_cert, *alice.node_ca_chain]
    with pytest.raises(WrongIssuerError, match=r"\(TLS\) was issued by a different key"):
        validate_path(chain, alice.root_cert)


def test_certificate_from_another_network_is_refused(dev_ca, other_ca) -> None:
    node = other_ca.enrol_node(X500Name("Alice Solar", "Leeds", "GB"))
    with pytest.raises(WrongIssuerError, match="'CN=Root CA, O=Other Grid, L=Paris, C=FR'"):
        validate_path(node.legal_identity_chain[:-1], dev_ca.root_cert)


def test_certificate_from_a_network_with_the_same_names_is_refused(dev_ca) -> None:
    twin = type(dev_ca).create()
    node = twin.enrol_node(X500Name("Alice Solar", "Leeds", "GB"))
    with pytest.raises(WrongIssuerError, match=r"\(DOORMAN_CA\) was issued by a different key"):
        validate_path(node.legal_identity_chain[:-1], dev_ca.root_cert)


def test_ecdsa_certificate_resigned_by_another_key_is_refused(alice, resigned) -> None:
    forged = resigned(alice.node_ca_cert, EcdsaP256PrivateKey.generate())
    with pytest.raises(
        BadCertificateSignatureError,
        match=r"signature on certificate 'O=Alice Solar, L=Leeds, C=GB' \(NODE_CA\) does not "
        r"verify under the key of .*\(DOORMAN_CA\)",
    ):
        validate_path([alice.legal_identity_cert, forged, alice.doorman_cert], alice.root_cert)


def test_ed25519_certificate_resigned_by_another_key_is_refused(alice, resigned) -> None:
    cert, _ = alice.issue_confidential_identity()
    forged = resigned(cert, Ed25519PrivateKey.generate())
    with pytest.raises(BadCertificateSignatureError, match=r"\(CONFIDENTIAL_IDENTITY\)"):
        validate_path(alice.confidential_identity_chain(forged), alice.root_cert)


def test_signature_by_a_key_of_the_wrong_type_is_refused(alice, forge) -> None:
    cert = forge(
        subject=alice.name.to_x509(),
        issuer=alice.legal_identity_cert.subject,
        subject_key=Ed25519PrivateKey.generate(),
        signing_key=EcdsaP256PrivateKey.generate(),
        role=CertRole.CONFIDENTIAL_IDENTITY,
    )
    with pytest.raises(BadCertificateSignatureError, match="does not match the Ed25519PublicKey"):
        validate_path([cert, *alice.legal_identity_chain], alice.root_cert)


def test_chain_ending_at_another_root_is_refused(dev_ca, other_ca) -> None:
    node = other_ca.enrol_node(X500Name("Alice Solar", "Leeds", "GB"))
    with pytest.raises(
        UntrustedRootError, match=r"ends at root 'CN=Root CA, O=Other Grid.*not this network"
    ):
        validate_path(node.legal_identity_chain, dev_ca.root_cert)


def test_trusted_root_that_is_not_a_root_ca_is_refused(alice) -> None:
    with pytest.raises(UntrustedRootError, match=r"\(DOORMAN_CA\) is not a ROOT_CA"):
        validate_path([alice.node_ca_cert], alice.doorman_cert)


def test_trusted_root_that_is_not_self_signed_is_refused(dev_ca, resigned) -> None:
    fake_root = resigned(dev_ca.root_cert, EcdsaP256PrivateKey.generate())
    with pytest.raises(UntrustedRootError, match="not validly self-signed"):
        validate_path([dev_ca.doorman_cert], fake_root)


@pytest.mark.parametrize(
    "error",
    [
        CertificateExpiredError,
        WrongIssuerError,
        BadCertificateSignatureError,
        CertificateRoleError,
        UntrustedRootError,
    ],
)
def test_every_path_error_is_a_certificate_path_error(error: type[Exception]) -> None:
    assert issubclass(error, CertificatePathError)
