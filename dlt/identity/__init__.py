"""Legal identities: X.500 names, parties, and the certificate hierarchy that admits them."""

from dlt.identity.certificates import (
    CertificateFormatError,
    CertRole,
    InvalidCsrError,
    cert_from_pem,
    cert_role,
    cert_to_pem,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    create_csr,
    create_self_signed_root,
    csr_from_pem,
    csr_to_pem,
    issue_certificate,
    sign_csr,
    validate_path,
)
from dlt.identity.errors import (
    BadCertificateSignatureError,
    CertificateExpiredError,
    CertificatePathError,
    CertificateRoleError,
    NameConstraintError,
    UntrustedRootError,
    WrongIssuerError,
)
from dlt.identity.hierarchy import DevCertificateAuthority, NodeCertificates
from dlt.identity.name_constraints import identity_host_name
from dlt.identity.party import AbstractParty, AnonymousParty, Party
from dlt.identity.x500 import InvalidX500NameError, X500Name

__all__ = [
    "AbstractParty",
    "AnonymousParty",
    "BadCertificateSignatureError",
    "CertRole",
    "CertificateExpiredError",
    "CertificateFormatError",
    "CertificatePathError",
    "CertificateRoleError",
    "DevCertificateAuthority",
    "InvalidCsrError",
    "InvalidX500NameError",
    "NameConstraintError",
    "NodeCertificates",
    "Party",
    "UntrustedRootError",
    "WrongIssuerError",
    "X500Name",
    "cert_from_pem",
    "cert_role",
    "cert_to_pem",
    "certificate_name",
    "certificate_public_key",
    "certs_from_pem",
    "create_csr",
    "create_self_signed_root",
    "csr_from_pem",
    "csr_to_pem",
    "identity_host_name",
    "issue_certificate",
    "sign_csr",
    "validate_path",
]
