"""Why a certificate, or a chain of them, is not trusted: one type per reason, one-line messages."""

from __future__ import annotations


class CertificatePathError(Exception):
    """A certificate, or a chain of them, that cannot be trusted; the message says which."""


class CertificateExpiredError(CertificatePathError):
    """A certificate is used outside its validity period (expired or not yet valid)."""


class WrongIssuerError(CertificatePathError):
    """A certificate does not name (or identify) the certificate placed above it as issuer."""


class BadCertificateSignatureError(CertificatePathError):
    """A certificate's signature does not verify under its issuer's public key."""


class CertificateRoleError(CertificatePathError):
    """A role extension is missing or garbled, or a role is issued by one that may not issue it."""


class UntrustedRootError(CertificatePathError):
    """The chain does not lead to the network's trusted root, or that root is not a root CA."""


class NameConstraintError(CertificatePathError):
    """A certificate carries a name its issuers may not certify, or a node CA is not bound to
    the one name the doorman approved (its name constraints are missing or wrong)."""
