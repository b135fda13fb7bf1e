"""Issuing certificates: roles, extensions, keys and validity of each kind in the hierarchy."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.identity import (
    CertificateExpiredError,
    CertificateFormatError,
    CertificateRoleError,
    CertRole,
    WrongIssuerError,
    X500Name,
    cert_from_pem,
    cert_role,
    cert_to_pem,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    create_self_signed_root,
    issue_certificate,
    validate_path,
)
from dlt.identity.certificates import CERT_ROLE_OID
from dlt.identity.hierarchy import DevCertificateAuthority, NodeCertificates
from dlt.identity.name_constraints import identity_host_name

DAY = timedelta(days=1)
CAROL = X500Name("Carol Hydro", "Bath", "GB")


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType:
    return cert.extensions.get_extension_for_class(kind).value


def _hierarchy(dev_ca: DevCertificateAuthority, alice: NodeCertificates) -> dict[str, object]:
    return {
        "root": dev_ca.root_cert,
        "doorman": dev_ca.doorman_cert,
        "network_map": dev_ca.network_map_cert,
        "node_ca": alice.node_ca_cert,
        "tls": alice.tls_cert,
        "legal_identity": alice.legal_identity_cert,
    }


@pytest.mark.parametrize(
    ("which", "role"),
    [
        ("root", CertRole.ROOT_CA),
        ("doorman", CertRole.DOORMAN_CA),
        ("network_map", CertRole.NETWORK_MAP),
        ("node_ca", CertRole.NODE_CA),
        ("tls", CertRole.TLS),
        ("legal_identity", CertRole.LEGAL_IDENTITY),
    ],
)
def test_each_certificate_carries_its_role(dev_ca, alice, which: str, role: CertRole) -> None:
    assert cert_role(_hierarchy(dev_ca, alice)[which]) is role


def test_confidential_identity_carries_its_role(alice) -> None:
    cert, _ = alice.issue_confidential_identity()
    assert cert_role(cert) is CertRole.CONFIDENTIAL_IDENTITY


def test_role_extension_is_a_non_critical_der_integer_under_a_uuid_oid(alice) -> None:
    extension = alice.tls_cert.extensions.get_extension_for_oid(CERT_ROLE_OID)
    assert CERT_ROLE_OID.dotted_string.startswith("2.25.")
    assert not extension.critical
    assert extension.value.value == bytes([0x02, 0x01, int(CertRole.TLS)])


def test_role_survives_pem_round_trip(alice) -> None:
    assert cert_role(cert_from_pem(cert_to_pem(alice.node_ca_cert))) is CertRole.NODE_CA


def test_missing_role_extension_is_refused(forge, dev_ca) -> None:
    key = EcdsaP256PrivateKey.generate()
    cert = forge(
        subject=CAROL.to_x509(), issuer=CAROL.to_x509(), subject_key=key, signing_key=key, role=None
    )
    with pytest.raises(CertificateRoleError, match="'O=Carol Hydro, L=Bath, C=GB' has no role"):
        cert_role(cert)


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"\x02\x01",
        b"\x04\x01\x03",
        b"\x02\x02\x00\x03",
        b"\x02\x01\xff",
        b"\x02\x81\x01\x03",
        b"\x02\x01\x03\x00",
        b"\x02\x09" + b"\x01" * 9,
        b"\x02\x01\x00",
        b"\x02\x01\x63",
    ],
    ids=[
        "empty",
        "truncated",
        "not-integer",
        "non-minimal",
        "negative",
        "long-form-length",
        "trailing-bytes",
        "too-large",
        "zero",
        "unknown-role",
    ],
)
def test_garbled_role_extension_is_refused(forge, value: bytes) -> None:
    key = EcdsaP256PrivateKey.generate()
    cert = forge(
        subject=CAROL.to_x509(),
        issuer=CAROL.to_x509(),
        subject_key=key,
        signing_key=key,
        role=None,
        extra=((x509.UnrecognizedExtension(CERT_ROLE_OID, value), False),),
    )
    with pytest.raises(CertificateRoleError, match="garbled role extension"):
        cert_role(cert)


def test_root_is_self_signed(dev_ca) -> None:
    root = dev_ca.root_cert
    assert root.issuer == root.subject
    validate_path([root], root)


def test_root_key_must_be_ecdsa() -> None:
    with pytest.raises(CertificateRoleError, match=r"ROOT_CA certificate .* needs an ecdsa-p256"):
        create_self_signed_root(name=CAROL, key=Ed25519PrivateKey.generate())


def test_issuer_refuses_a_role_it_may_not_issue(alice) -> None:
    with pytest.raises(
        CertificateRoleError,
        match=r"'O=Alice Solar, L=Leeds, C=GB' \(NODE_CA\) is not allowed to issue "
        r"CONFIDENTIAL_IDENTITY.*have a LEGAL_IDENTITY certificate issue",
    ):
        issue_certificate(
            issuer_cert=alice.node_ca_cert,
            issuer_key=alice.node_ca_key,
            subject=alice.name,
            subject_key=Ed25519PrivateKey.generate().public_key,
            role=CertRole.CONFIDENTIAL_IDENTITY,
            validity=DAY,
        )


def test_root_cannot_issue_node_ca_directly(dev_ca) -> None:
    with pytest.raises(CertificateRoleError, match=r"\(ROOT_CA\) is not allowed to issue NODE_CA"):
        issue_certificate(
            issuer_cert=dev_ca.root_cert,
            issuer_key=dev_ca.root_key,
            subject=CAROL,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.NODE_CA,
            validity=DAY,
        )


def test_tls_certificate_cannot_issue(alice) -> None:
    with pytest.raises(CertificateRoleError, match=r"\(TLS\) is not allowed to issue TLS"):
        issue_certificate(
            issuer_cert=alice.tls_cert,
            issuer_key=alice.tls_key,
            subject=alice.name,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.TLS,
            validity=DAY,
        )


@pytest.mark.parametrize(
    ("role", "key"),
    [
        (CertRole.TLS, Ed25519PrivateKey.generate()),
        (CertRole.LEGAL_IDENTITY, EcdsaP256PrivateKey.generate()),
        (CertRole.SERVICE_IDENTITY, EcdsaP256PrivateKey.generate()),
    ],
)
def test_subject_key_scheme_must_fit_role(alice, role: CertRole, key) -> None:
    with pytest.raises(CertificateRoleError, match=rf"a {role.name} certificate .* needs an"):
        issue_certificate(
            issuer_cert=alice.node_ca_cert,
            issuer_key=alice.node_ca_key,
            subject=alice.name,
            subject_key=key.public_key,
            role=role,
            validity=DAY,
        )


def test_issuer_key_must_belong_to_issuer_certificate(dev_ca, other_ca) -> None:
    with pytest.raises(WrongIssuerError, match="issuer key does not belong"):
        issue_certificate(
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=other_ca.doorman_key,
            subject=CAROL,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.NODE_CA,
            validity=DAY,
        )


@pytest.mark.parametrize(
    ("which", "path_length"),
    [("root", 3), ("doorman", 2), ("node_ca", 1), ("legal_identity", 0)],
)
def test_issuing_certificates_are_cas_that_may_sign_certificates(
    dev_ca, alice, which: str, path_length: int
) -> None:
    cert = _hierarchy(dev_ca, alice)[which]
    constraints = _extension(cert, x509.BasicConstraints)
    assert constraints.ca
    assert constraints.path_length == path_length
    assert _extension(cert, x509.KeyUsage).key_cert_sign


@pytest.mark.parametrize("which", ["tls", "network_map"])
def test_leaf_certificates_are_not_cas(dev_ca, alice, which: str) -> None:
    cert = _hierarchy(dev_ca, alice)[which]
    assert not _extension(cert, x509.BasicConstraints).ca
    usage = _extension(cert, x509.KeyUsage)
    assert usage.digital_signature
    assert not usage.key_cert_sign


def test_tls_certificate_is_for_server_and_client_authentication(alice) -> None:
    usages = _extension(alice.tls_cert, x509.ExtendedKeyUsage)
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def test_tls_key_usage_fits_an_ecdsa_key(alice) -> None:
    usage = _extension(alice.tls_cert, x509.KeyUsage)
    assert usage.digital_signature
    assert usage.key_agreement
    assert not usage.key_encipherment


def test_tls_certificate_names_its_identity_host_and_loopback_by_default(alice) -> None:
    names = _extension(alice.tls_cert, x509.SubjectAlternativeName)
    assert names.get_values_for_type(x509.DNSName) == [identity_host_name(alice.name)]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]


def test_tls_subject_alt_names_can_be_overridden(dev_ca) -> None:
    address = ipaddress.IPv4Address("127.0.0.2")
    node = dev_ca.enrol_node(CAROL, tls_subject_alt_names=[x509.IPAddress(address)])
    names = _extension(node.tls_cert, x509.SubjectAlternativeName)
    assert names.get_values_for_type(x509.DNSName) == []
    assert names.get_values_for_type(x509.IPAddress) == [address]


def test_subject_alt_names_are_refused_outside_tls(alice) -> None:
    with pytest.raises(ValueError, match="apply to TLS certificates, not LEGAL_IDENTITY"):
        issue_certificate(
            issuer_cert=alice.node_ca_cert,
            issuer_key=alice.node_ca_key,
            subject=alice.name,
            subject_key=Ed25519PrivateKey.generate().public_key,
            role=CertRole.LEGAL_IDENTITY,
            validity=DAY,
            subject_alt_names=[x509.DNSName("alice.example")],
        )


def test_legal_identity_names_the_node(alice) -> None:
    assert certificate_name(alice.legal_identity_cert) == X500Name("Alice Solar", "Leeds", "GB")


def test_authority_key_identifier_matches_issuer_subject_key_identifier(alice) -> None:
    authority = _extension(alice.legal_identity_cert, x509.AuthorityKeyIdentifier)
    issuer = _extension(alice.node_ca_cert, x509.SubjectKeyIdentifier)
    assert authority.key_identifier == issuer.digest


def test_serial_numbers_are_random(dev_ca) -> None:
    first = dev_ca.enrol_node(CAROL).node_ca_cert.serial_number
    second = dev_ca.enrol_node(CAROL).node_ca_cert.serial_number
    assert first != second
    assert first.bit_length() > 64


def test_validity_never_exceeds_the_issuer(dev_ca, now) -> None:
    cert = issue_certificate(
        issuer_cert=dev_ca.doorman_cert,
        issuer_key=dev_ca.doorman_key,
        subject=CAROL,
        subject_key=EcdsaP256PrivateKey.generate().public_key,
        role=CertRole.NODE_CA,
        validity=timedelta(days=100_000),
        now=now,
    )
    assert cert.not_valid_before_utc == now
    assert cert.not_valid_after_utc == dev_ca.doorman_cert.not_valid_after_utc


@pytest.mark.parametrize("validity", [timedelta(0), -DAY])
def test_non_positive_validity_is_refused(dev_ca, validity: timedelta) -> None:
    with pytest.raises(ValueError, match="at least one second"):
        issue_certificate(
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=dev_ca.doorman_key,
            subject=CAROL,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.NODE_CA,
            validity=validity,
        )


def test_expired_issuer_cannot_issue(dev_ca) -> None:
    later = dev_ca.doorman_cert.not_valid_after_utc + DAY
    with pytest.raises(CertificateExpiredError, match=r"issuer .*\(DOORMAN_CA\) is valid from"):
        issue_certificate(
            issuer_cert=dev_ca.doorman_cert,
            issuer_key=dev_ca.doorman_key,
            subject=CAROL,
            subject_key=EcdsaP256PrivateKey.generate().public_key,
            role=CertRole.NODE_CA,
            validity=DAY,
            now=later,
        )


def test_naive_now_is_refused(dev_ca) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_path([dev_ca.doorman_cert], dev_ca.root_cert, now=datetime(2030, 1, 1))


def test_confidential_identity_is_signed_with_ed25519(alice) -> None:
    cert, key = alice.issue_confidential_identity()
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ED25519
    assert certificate_public_key(cert) == key.public_key


def test_ca_certificates_are_signed_with_ecdsa_sha256(alice) -> None:
    assert alice.node_ca_cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256


def test_party_is_legal_name_and_identity_key(alice) -> None:
    assert alice.party.name == X500Name("Alice Solar", "Leeds", "GB")
    assert alice.party.owning_key == alice.legal_identity_key.public_key


def test_pem_bundle_round_trips_a_chain(alice) -> None:
    bundle = b"".join(cert_to_pem(cert) for cert in alice.tls_chain)
    assert certs_from_pem(bundle) == list(alice.tls_chain)


def test_garbage_is_not_a_pem_certificate() -> None:
    with pytest.raises(CertificateFormatError, match="cannot read a PEM certificate"):
        cert_from_pem(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_tls_certificates_authenticate_both_ends_under_openssl(dev_ca, alice, tmp_path) -> None:
    bob = dev_ca.enrol_node(X500Name("Bob Wind", "York", "GB"))
    root = tmp_path / "root.pem"
    root.write_bytes(cert_to_pem(dev_ca.root_cert))

    def context(node: NodeCertificates, purpose: ssl.Purpose, name: str) -> ssl.SSLContext:
        chain, key = Path(tmp_path / f"{name}.pem"), Path(tmp_path / f"{name}.key")
        chain.write_bytes(b"".join(cert_to_pem(cert) for cert in node.tls_chain[:-1]))
        key.write_bytes(node.tls_key.to_pem())
        ctx = ssl.create_default_context(purpose, cafile=str(root))
        ctx.load_cert_chain(chain, key)
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    server_ctx = context(alice, ssl.Purpose.CLIENT_AUTH, "alice")
    client_ctx = context(bob, ssl.Purpose.SERVER_AUTH, "bob")
    seen: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def serve() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                seen.append(tls.getpeercert()["subject"])

        thread = threading.Thread(target=serve)
        thread.start()
        address = listener.getsockname()
        with client_ctx.wrap_socket(
            socket.create_connection(address, timeout=5),
            server_hostname=identity_host_name(alice.name),
        ) as tls:
            server_subject = tls.getpeercert()["subject"]
        thread.join(timeout=5)
    assert (("organizationName", "Alice Solar"),) in server_subject
    assert (("organizationName", "Bob Wind"),) in seen[0]


def test_hierarchy_can_be_created_at_a_given_time() -> None:
    at = datetime(2031, 5, 1, tzinfo=UTC)
    ca = DevCertificateAuthority.create(now=at)
    assert ca.doorman_cert.not_valid_before_utc == at
