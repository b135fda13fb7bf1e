"""One development network for the identity tests: building CAs is the slow part, so share it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519

from dlt.crypto import PrivateKey
from dlt.identity import X500Name
from dlt.identity.certificates import CertRole, role_extension
from dlt.identity.hierarchy import DevCertificateAuthority, NodeCertificates

NOW = datetime.now(UTC).replace(microsecond=0)
ALICE = X500Name("Alice Solar", "Leeds", "GB")
BOB = X500Name("Bob Wind", "York", "GB")

Forge = Callable[..., x509.Certificate]


@pytest.fixture(scope="session")
def dev_ca() -> DevCertificateAuthority:
    return DevCertificateAuthority.create(now=NOW)


@pytest.fixture(scope="session")
def alice(dev_ca: DevCertificateAuthority) -> NodeCertificates:
    return dev_ca.enrol_node(ALICE, now=NOW)


@pytest.fixture(scope="session")
def other_ca() -> DevCertificateAuthority:
    """Another network, with a differently named root."""
    return DevCertificateAuthority.create(
        root_name=X500Name("Other Grid", "Paris", "FR", common_name="Root CA"), now=NOW
    )


def _signing_hash(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key.to_cryptography(), ed25519.Ed25519PrivateKey) else hashes.SHA256()


def forge_certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    subject_key: PrivateKey,
    signing_key: PrivateKey,
    role: CertRole | None,
    ca: bool = False,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> x509.Certificate:
    """A certificate built without any of issue_certificate's checks, to feed validation."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key.to_cryptography())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if role is not None:
        builder = builder.add_extension(role_extension(role), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key.to_cryptography(), _signing_hash(signing_key))


def resign(cert: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    """The same certificate (names, key, serial, extensions) signed by `key` instead."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(key.to_cryptography(), _signing_hash(key))


@pytest.fixture(scope="session")
def forge() -> Forge:
    return forge_certificate


@pytest.fixture(scope="session")
def resigned() -> Callable[[x509.Certificate, PrivateKey], x509.Certificate]:
    return resign


@pytest.fixture
def now() -> datetime:
    """The moment the shared network was created; certificates are valid from then on."""
    return NOW
