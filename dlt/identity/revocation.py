"""Certificate revocation: X.509 CRLs the doorman CA signs, and checking a path against one.

A node CA certifies its own TLS and identity certificates, so the doorman cannot list those;
it lists the node CA (and the node's meters) instead, and a path is revoked when any
certificate in it was issued by the CRL's issuer under a listed serial. That one check covers
everything a revoked node CA ever signed, now and later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtensionOID

from dlt.crypto import PrivateKey
from dlt.identity.certificates import (
    CertificateFormatError,
    CertRole,
    cert_role,
    certs_from_pem,
    validate_path,
)
from dlt.identity.errors import CertificatePathError

_PEM_MARKER = b"-----BEGIN X509 CRL-----"


class InvalidCrlError(ValueError):
    """A CRL that is malformed, not signed by the network's doorman CA, stale or out of date."""


class CertificateRevokedError(CertificatePathError):
    """A certificate path contains a certificate its issuer has revoked."""


@dataclass(frozen=True)
class RevokedCertificate:
    """One entry the doorman lists: which certificate, since when."""

    serial: int
    revoked_at: datetime


def issue_crl(
    *,
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    revoked: Iterable[RevokedCertificate],
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> x509.CertificateRevocationList:
    """A CRL signed by `issuer_key` listing `revoked`; `number` must grow with every CRL, so
    a node can refuse an older one replayed to hide a revocation."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .build()
        )
    crypto_key = issuer_key.to_cryptography()
    # Ed25519 signs the message itself, so `cryptography` wants no hash algorithm for it.
    algorithm = None if isinstance(crypto_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(crypto_key, algorithm)


def crl_to_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class RevocationList:
    """A CRL verified against the doorman CA that signed it, reduced to what checks need."""

    issuer: x509.Certificate
    number: int
    this_update: datetime
    next_update: datetime
    serials: frozenset[int]

    @classmethod
    def verify(
        cls,
        bundle_pem: bytes,
        root: x509.Certificate,
        now: datetime | None = None,
    ) -> RevocationList:
        """Parse a CRL bundle (the CRL, then its issuer's certificate) and verify it: the
        issuer is a DOORMAN_CA under `root` and it signed the CRL. An expired CRL is still
        returned (see `expired`): refusing it would stop a node following the map at all."""
        moment = now or datetime.now(UTC)
        crl_part, marker, rest = bundle_pem.partition(b"-----END X509 CRL-----")
        if not marker or _PEM_MARKER not in crl_part:
            raise InvalidCrlError("the bundle does not start with a PEM X509 CRL")
        try:
            crl = x509.load_pem_x509_crl(crl_part + marker + b"\n")
            issuers = certs_from_pem(rest)
        except (ValueError, CertificateFormatError) as exc:
            raise InvalidCrlError(f"the CRL bundle is unreadable: {exc}") from exc
        if len(issuers) != 1:
            raise InvalidCrlError("the CRL bundle must carry exactly its issuer's certificate")
        issuer = issuers[0]
        try:
            validate_path([issuer], root, moment)
            role = cert_role(issuer)
        except CertificatePathError as exc:
            raise InvalidCrlError(f"the CRL's issuer is not trusted: {exc}") from exc
        if role is not CertRole.DOORMAN_CA:
            raise InvalidCrlError(f"the CRL is issued by a {role.name}, not the doorman CA")
        if crl.issuer != issuer.subject or not _signed_by(crl, issuer):
            raise InvalidCrlError(
                f"the CRL is not signed by the doorman CA {issuer.subject.rfc4514_string()}"
            )
        try:
            number = crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value
        except x509.ExtensionNotFound as exc:
            raise InvalidCrlError("the CRL carries no CRL number") from exc
        next_update = crl.next_update_utc
        if next_update is None:
            raise InvalidCrlError("the CRL names no next update")
        return cls(
            issuer=issuer,
            number=number.crl_number,
            this_update=crl.last_update_utc,
            next_update=next_update,
            serials=frozenset(entry.serial_number for entry in crl),
        )

    def expired(self, now: datetime | None = None) -> bool:
        """Past its next update: what it revokes still holds, but newer revocations may be
        missing until the doorman's operator issues a new CRL."""
        return self.next_update < (now or datetime.now(UTC))

    def check_path(self, chain: Sequence[x509.Certificate], what: str) -> None:
        """Raise `CertificateRevokedError` if a certificate of `chain` (leaf first) was issued
        by this CRL's issuer under a revoked serial; `what` names the chain in the message."""
        for cert in chain:
            if cert.issuer != self.issuer.subject or cert.serial_number not in self.serials:
                continue
            raise CertificateRevokedError(
                f"{what}: certificate {cert.subject.rfc4514_string()} (serial "
                f"{cert.serial_number:x}) is revoked by {self.issuer.subject.rfc4514_string()}"
            )


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return False
    return crl.is_signature_valid(key)
