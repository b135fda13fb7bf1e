"""Certificate signing requests: how a node asks the doorman or its node CA for a certificate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.identity import (
    CertificateFormatError,
    CertificateRoleError,
    CertRole,
    InvalidCsrError,
    X500Name,
    cert_role,
    certificate_name,
    certificate_public_key,
    create_csr,
    csr_from_pem,
    csr_to_pem,
    sign_csr,
    validate_path,
)

DAY = timedelta(days=1)
DAVE = X500Name("Dave Storage", "Hull", "GB")


def test_csr_round_trips_through_pem() -> None:
    csr = create_csr(subject=DAVE, key=EcdsaP256PrivateKey.generate())
    assert csr_from_pem(csr_to_pem(csr)) == csr


def test_csr_names_its_subject_and_is_self_signed() -> None:
    csr = create_csr(subject=DAVE, key=Ed25519PrivateKey.generate())
    assert X500Name.from_x509(csr.subject) == DAVE
    assert csr.is_signature_valid


def test_signed_csr_takes_subject_and_key_from_the_request(dev_ca) -> None:
    key = EcdsaP256PrivateKey.generate()
    csr = csr_from_pem(csr_to_pem(create_csr(subject=DAVE, key=key)))
    cert = sign_csr(
        csr=csr,
        issuer_cert=dev_ca.doorman_cert,
        issuer_key=dev_ca.doorman_key,
        role=CertRole.NODE_CA,
        validity=DAY,
    )
    assert certificate_name(cert) == DAVE
    assert certificate_public_key(cert) == key.public_key
    assert cert_role(cert) is CertRole.NODE_CA
    validate_path([cert, dev_ca.doorman_cert], dev_ca.root_cert)


def test_ed25519_csr_is_signed_into_a_legal_identity(alice) -> None:
    key = Ed25519PrivateKey.generate()
    cert = sign_csr(
        csr=create_csr(subject=alice.name, key=key),
        issuer_cert=alice.node_ca_cert,
        issuer_key=alice.node_ca_key,
        role=CertRole.LEGAL_IDENTITY,
        validity=DAY,
    )
    assert certificate_public_key(cert) == key.public_key
    validate_path([cert, *alice.node_ca_chain], alice.root_cert)


def test_csr_altered_after_signing_is_refused(dev_ca) -> None:
    der = create_csr(subject=DAVE, key=EcdsaP256PrivateKey.generate()).public_bytes(
        serialization.Encoding.DER
    )
    tampered = x509.load_der_x509_csr(der.replace(b"Dave Storage", b"Eve  Storage"))
    with pytest.raises(InvalidCsrError, match="'O=Eve  Storage, L=Hull, C=GB' is not signed"):
        sign_csr(
            csr=tampered,
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=dev_ca.doorman_key,
            role=CertRole.NODE_CA,
            validity=DAY,
        )


def test_csr_without_a_legal_name_is_refused(dev_ca) -> None:
    key = EcdsaP256PrivateKey.generate().to_cryptography()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "dave")]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(InvalidCsrError, match="not a legal name"):
        sign_csr(
            csr=csr,
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=dev_ca.doorman_key,
            role=CertRole.NODE_CA,
            validity=DAY,
        )


def test_signing_a_csr_still_enforces_the_issuer_role(dev_ca) -> None:
    csr = create_csr(subject=DAVE, key=EcdsaP256PrivateKey.generate())
    with pytest.raises(CertificateRoleError, match=r"\(DOORMAN_CA\) is not allowed to issue TLS"):
        sign_csr(
            csr=csr,
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=dev_ca.doorman_key,
            role=CertRole.TLS,
            validity=DAY,
        )


def test_garbage_is_not_a_pem_csr() -> None:
    with pytest.raises(CertificateFormatError, match="cannot read a PEM signing request"):
        csr_from_pem(b"not a request")
