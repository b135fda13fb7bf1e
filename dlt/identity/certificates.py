"""The network's X.509 certificate hierarchy, as in Corda.

root CA -> doorman CA -> node CA -> {TLS, legal identity, service identity}
root CA -> doorman CA -> meter (a household's metering device)
legal identity -> confidential identities
root CA -> network map

Every certificate carries its role in a custom extension, so a node can tell a TLS certificate
from a legal identity even when both name the same legal entity, and path validation can refuse
a certificate that was issued by a parent whose role may not issue it.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, SignatureAlgorithmOID

from dlt.crypto import (
    InvalidKeyError,
    PrivateKey,
    SignatureScheme,
    SingleKey,
    public_key_from_cryptography,
)
from dlt.identity.errors import (
    BadCertificateSignatureError,
    CertificateExpiredError,
    CertificatePathError,
    CertificateRoleError,
    UntrustedRootError,
    WrongIssuerError,
)
from dlt.identity.name_constraints import (
    NameConstraints,
    certificate_alt_names,
    check_names,
    identity_host_name,
    node_ca_name_constraints,
    read_name_constraints,
    require_node_ca_constraints,
)
from dlt.identity.x500 import InvalidX500NameError, X500Name, describe_name

# A UUID OID per ITU-T X.667 (arc 2.25 followed by the decimal value of a UUID generated once
# for this project: af8f5227-ed95-424a-8088-40365eb59cbc), so no enterprise number is squatted.
CERT_ROLE_OID = x509.ObjectIdentifier("2.25.233359064034144985927620041468802342076")

DEFAULT_ROOT_VALIDITY = timedelta(days=3650)

LOOPBACK = x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))


def default_tls_subject_alt_names(name: X500Name) -> list[x509.GeneralName]:
    """A TLS certificate's names by default: the node's identity host name, which clients that
    check identity ask for, and 127.0.0.1, where a local network listens."""
    return [x509.DNSName(identity_host_name(name)), LOOPBACK]


class CertRole(enum.IntEnum):
    """What a certificate is for; encoded as an ASN.1 INTEGER, so the values are frozen."""

    ROOT_CA = 1
    DOORMAN_CA = 2
    NODE_CA = 3
    TLS = 4
    LEGAL_IDENTITY = 5
    CONFIDENTIAL_IDENTITY = 6
    NETWORK_MAP = 7
    SERVICE_IDENTITY = 8
    METER = 9
    """A metering device the doorman admits for one household; it signs interval readings."""


ALLOWED_CHILD_ROLES: dict[CertRole, frozenset[CertRole]] = {
    CertRole.ROOT_CA: frozenset({CertRole.DOORMAN_CA, CertRole.NETWORK_MAP}),
    CertRole.DOORMAN_CA: frozenset({CertRole.NODE_CA, CertRole.METER}),
    CertRole.NODE_CA: frozenset({CertRole.TLS, CertRole.LEGAL_IDENTITY, CertRole.SERVICE_IDENTITY}),
    CertRole.LEGAL_IDENTITY: frozenset({CertRole.CONFIDENTIAL_IDENTITY}),
}

# The key scheme each role's subject key must use; None means either is accepted.
ROLE_KEY_SCHEMES: dict[CertRole, SignatureScheme | None] = {
    CertRole.ROOT_CA: SignatureScheme.ECDSA_P256,
    CertRole.DOORMAN_CA: SignatureScheme.ECDSA_P256,
    CertRole.NODE_CA: SignatureScheme.ECDSA_P256,
    CertRole.TLS: SignatureScheme.ECDSA_P256,
    CertRole.LEGAL_IDENTITY: SignatureScheme.ED25519,
    CertRole.SERVICE_IDENTITY: SignatureScheme.ED25519,
    CertRole.CONFIDENTIAL_IDENTITY: SignatureScheme.ED25519,
    CertRole.METER: SignatureScheme.ED25519,
    CertRole.NETWORK_MAP: None,
}


def _path_length(role: CertRole) -> int:
    """How many CA certificates may still follow `role` in a path, derived from the table."""
    lengths = [
        1 + _path_length(child) for child in ALLOWED_CHILD_ROLES.get(role, ()) if is_ca(child)
    ]
    return max(lengths, default=0)


def is_ca(role: CertRole) -> bool:
    """Whether certificates of `role` issue other certificates (and so are X.509 CAs)."""
    return role in ALLOWED_CHILD_ROLES


class InvalidCsrError(ValueError):
    """A certificate signing request that is malformed, unsigned by its key, or badly named."""


class CertificateFormatError(ValueError):
    """Bytes that are not a PEM certificate or signing request."""


# ---------------------------------------------------------------------------------------------
# The role extension: a DER INTEGER, encoded and decoded here so no ASN.1 library is needed.

_MAX_INTEGER_OCTETS = 8


def _der_encode_integer(value: int) -> bytes:
    """Minimal DER encoding of a non-negative INTEGER below 2**63."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    if not 0 <= value < 1 << (8 * _MAX_INTEGER_OCTETS - 1):
        raise ValueError(f"integer {value} is outside 0 .. 2**63 - 1")
    content = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return bytes([0x02, len(content)]) + content


def _der_decode_integer(data: bytes) -> int:
    """Read exactly one minimal, non-negative DER INTEGER of at most 8 content octets."""
    if len(data) < 3:
        raise ValueError(f"too short for a DER INTEGER: {data.hex()}")
    tag, length, content = data[0], data[1], data[2:]
    if tag != 0x02:
        raise ValueError(f"expected an INTEGER (tag 0x02), got tag {tag:#04x}")
    if length & 0x80 or not 1 <= length <= _MAX_INTEGER_OCTETS:
        raise ValueError(f"INTEGER length {length} is outside 1 .. {_MAX_INTEGER_OCTETS}")
    if len(content) != length:
        raise ValueError(f"INTEGER declares {length} content octets but {len(content)} follow")
    if content[0] & 0x80:
        raise ValueError("INTEGER is negative")
    if length > 1 and content[0] == 0x00 and not content[1] & 0x80:
        raise ValueError("INTEGER is not minimally encoded")
    return int.from_bytes(content, "big")


def role_extension(role: CertRole) -> x509.UnrecognizedExtension:
    """The (non-critical) extension that marks a certificate with `role`."""
    return x509.UnrecognizedExtension(CERT_ROLE_OID, _der_encode_integer(int(role)))


def cert_role(cert: x509.Certificate) -> CertRole:
    """The role a certificate was issued for."""
    try:
        extension = cert.extensions.get_extension_for_oid(CERT_ROLE_OID)
    except x509.ExtensionNotFound as exc:
        raise CertificateRoleError(
            f"certificate {_subject(cert)} has no role extension ({CERT_ROLE_OID.dotted_string});"
            " it was not issued by this network's CAs, so re-issue it with issue_certificate"
        ) from exc
    except ValueError as exc:
        raise CertificateRoleError(
            f"certificate {_subject(cert)} has malformed extensions: {exc}"
        ) from exc
    value = extension.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    try:
        return CertRole(_der_decode_integer(raw))
    except ValueError as exc:
        raise CertificateRoleError(
            f"certificate {_subject(cert)} has a garbled role extension ({exc}); re-issue it"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Issuing.


def create_self_signed_root(
    *,
    name: X500Name,
    key: PrivateKey,
    validity: timedelta = DEFAULT_ROOT_VALIDITY,
    now: datetime | None = None,
) -> x509.Certificate:
    """The network's trust anchor: a self-signed ROOT_CA certificate."""
    _check_key_scheme(CertRole.ROOT_CA, key.public_key, f"'{name}'")
    _check_positive(validity)
    not_before = _now(now)
    builder = _base_builder(
        subject=name.to_x509(),
        issuer=name.to_x509(),
        subject_key=key.public_key,
        role=CertRole.ROOT_CA,
        not_before=not_before,
        not_after=not_before + validity,
    )
    return _sign(builder, key)


def issue_certificate(
    *,
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    subject: X500Name,
    subject_key: SingleKey,
    role: CertRole,
    validity: timedelta,
    now: datetime | None = None,
    subject_alt_names: Sequence[x509.GeneralName] | None = None,
    permitted_host_names: Sequence[str] = (),
) -> x509.Certificate:
    """Issue a `role` certificate for `subject_key`, refusing roles the issuer may not issue
    and names the issuer's name constraints do not permit.

    The validity is cut to the issuer's own notAfter, so a child never outlives its parent.
    `subject_alt_names` applies to TLS certificates only (default: the identity host name and
    127.0.0.1; an empty sequence leaves the extension out). A NODE_CA is always bound to
    `subject` by name constraints; `permitted_host_names` adds host names it may certify (for
    the network map service; the doorman adds none).
    """
    if not isinstance(subject_key, SingleKey):
        raise TypeError(f"a certificate holds a single key, not {type(subject_key).__name__}")
    issuer_role = cert_role(issuer_cert)
    if role not in ALLOWED_CHILD_ROLES.get(issuer_role, frozenset()):
        raise CertificateRoleError(_role_refusal(issuer_cert, issuer_role, role))
    if issuer_key.public_key != certificate_public_key(issuer_cert):
        raise WrongIssuerError(
            f"the issuer key does not belong to certificate {_describe(issuer_cert)}; "
            "pass the private key whose public key that certificate holds"
        )
    _check_key_scheme(role, subject_key, f"'{subject}'")
    if subject_alt_names is not None and role is not CertRole.TLS:
        raise ValueError(f"subject alternative names apply to TLS certificates, not {role.name}")
    if permitted_host_names and role is not CertRole.NODE_CA:
        raise ValueError(f"permitted host names apply to NODE_CA certificates, not {role.name}")
    names: list[x509.GeneralName] = []
    if role is CertRole.TLS:
        names = list(
            default_tls_subject_alt_names(subject)
            if subject_alt_names is None
            else subject_alt_names
        )
    issuer_constraints = read_name_constraints(issuer_cert, _describe(issuer_cert))
    if issuer_constraints is not None:
        check_names(f"'{subject}' ({role.name})", subject.to_x509(), names, [issuer_constraints])
    _check_positive(validity)

    moment = _now(now)
    issuer_start, issuer_end = _validity(issuer_cert)
    if not issuer_start <= moment <= issuer_end:
        raise CertificateExpiredError(
            f"issuer {_describe(issuer_cert)} is valid from {issuer_start:%Y-%m-%d %H:%M:%S} "
            f"to {issuer_end:%Y-%m-%d %H:%M:%S} UTC, so it cannot issue at {moment}; "
            "renew the issuer certificate first"
        )
    builder = _base_builder(
        subject=subject.to_x509(),
        issuer=issuer_cert.subject,
        subject_key=subject_key,
        role=role,
        not_before=moment,
        not_after=min(moment + validity, issuer_end),
    )
    builder = builder.add_extension(_authority_key_identifier(issuer_cert), critical=False)
    if role is CertRole.NODE_CA:
        builder = builder.add_extension(
            node_ca_name_constraints(subject, permitted_host_names), critical=True
        )
    if role is CertRole.TLS:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(list(names)), critical=False
            )
    return _sign(builder, issuer_key)


def _base_builder(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    subject_key: SingleKey,
    role: CertRole,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    ca = is_ca(role)
    crypto_key = subject_key.to_cryptography()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(crypto_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=_path_length(role) if ca else None),
            critical=True,
        )
        .add_extension(_key_usage(role), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(crypto_key), critical=False)
        .add_extension(role_extension(role), critical=False)
    )


def _key_usage(role: CertRole) -> x509.KeyUsage:
    """CAs sign certificates; TLS keys also agree keys (ECDHE), which is what fits ECDSA keys
    (RFC 5480 rules out keyEncipherment for them); every other leaf only signs."""
    ca = is_ca(role)
    crl = role in (CertRole.ROOT_CA, CertRole.DOORMAN_CA, CertRole.NODE_CA)
    tls = role is CertRole.TLS
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=tls,
        key_cert_sign=ca,
        crl_sign=crl,
        encipher_only=False,
        decipher_only=False,
    )


def _authority_key_identifier(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(
            certificate_public_key(issuer_cert).to_cryptography()
        )
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    crypto_key = key.to_cryptography()
    return builder.sign(crypto_key, _hash_for(crypto_key))


def _hash_for(
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
) -> hashes.SHA256 | None:
    """Ed25519 signs the message itself, so `cryptography` wants no hash algorithm for it."""
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _check_key_scheme(role: CertRole, key: SingleKey, who: str) -> None:
    expected = ROLE_KEY_SCHEMES[role]
    if expected is not None and key.scheme is not expected:
        helper = (
            "EcdsaP256PrivateKey.generate()"
            if expected is SignatureScheme.ECDSA_P256
            else "Ed25519PrivateKey.generate()"
        )
        raise CertificateRoleError(
            f"a {role.name} certificate for {who} needs an {expected.value} key, "
            f"got {key.scheme.value}; generate one with {helper}"
        )


# ---------------------------------------------------------------------------------------------
# Certificate signing requests.


def create_csr(*, subject: X500Name, key: PrivateKey) -> x509.CertificateSigningRequest:
    """A request, signed by `key`, for a certificate naming `subject`."""
    crypto_key = key.to_cryptography()
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject.to_x509())
        .sign(crypto_key, _hash_for(crypto_key))
    )


def sign_csr(
    *,
    csr: x509.CertificateSigningRequest,
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    role: CertRole,
    validity: timedelta,
    now: datetime | None = None,
    subject_alt_names: Sequence[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """Issue a certificate for the subject and key a CSR asks for, once its signature checks.

    Extensions the CSR requests are ignored: the issuer alone decides what the certificate says.
    """
    if not csr.is_signature_valid:
        raise InvalidCsrError(
            f"the signing request for {describe_name(csr.subject)} is not signed by the key "
            "it contains; create it again with create_csr"
        )
    try:
        subject = X500Name.from_x509(csr.subject)
    except InvalidX500NameError as exc:
        raise InvalidCsrError(f"the signing request's subject is not a legal name: {exc}") from exc
    try:
        subject_key = public_key_from_cryptography(csr.public_key())
    except InvalidKeyError as exc:
        raise InvalidCsrError(
            f"the signing request for '{subject}' holds an unsupported key: {exc}"
        ) from exc
    return issue_certificate(
        issuer_cert=issuer_cert,
        issuer_key=issuer_key,
        subject=subject,
        subject_key=subject_key,
        role=role,
        validity=validity,
        now=now,
        subject_alt_names=subject_alt_names,
    )


# ---------------------------------------------------------------------------------------------
# Path validation.

_UNDERSTOOD_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.NAME_CONSTRAINTS,
        CERT_ROLE_OID,
    }
)


def validate_path(
    chain: Sequence[x509.Certificate],
    trusted_root: x509.Certificate,
    now: datetime | None = None,
) -> None:
    """Check that `chain` (leaf first, with or without the root at the end) leads to
    `trusted_root` through issuers that may issue each role, all valid at `now`.

    Links are checked from the root down, so nothing is read from a certificate until its
    issuer has been trusted. Every certificate's names must lie within the name constraints of
    every CA above it, and a NODE_CA must be bound to its own name (see name_constraints).
    Raises a `CertificatePathError` subclass naming the culprit.
    """
    moment = _now(now)
    certs = list(chain)
    if not certs:
        raise CertificatePathError("the certificate chain is empty; pass at least the leaf")
    if certs[-1] == trusted_root:
        certs.pop()
    elif _is_foreign_root(certs[-1]):
        raise UntrustedRootError(
            f"the chain ends at root {_describe(certs[-1])}, which is not this network's trusted "
            f"root {_describe(trusted_root)}; obtain certificates from this network's doorman"
        )
    _check_root(trusted_root, moment)
    path = [*certs, trusted_root]
    constraints: list[NameConstraints] = []
    for index in range(len(path) - 1, 0, -1):
        issuer, child = path[index], path[index - 1]
        found = read_name_constraints(issuer, _describe(issuer))
        if found is not None:
            constraints.append(found)
        _check_link(child, issuer, moment, cas_below=index - 1)
        what = _describe(child)
        check_names(what, child.subject, certificate_alt_names(child), constraints)
        if cert_role(child) is CertRole.NODE_CA:
            require_node_ca_constraints(child, what)


def _is_foreign_root(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        return cert_role(cert) is CertRole.ROOT_CA
    except CertificateRoleError:
        return False


def _check_root(root: x509.Certificate, moment: datetime) -> None:
    try:
        role = cert_role(root)
    except CertificateRoleError as exc:
        raise UntrustedRootError(f"the trusted root is not a root CA: {exc}") from exc
    if role is not CertRole.ROOT_CA:
        raise UntrustedRootError(
            f"the trusted root {_describe(root)} is not a ROOT_CA certificate; "
            "configure the network's root certificate as the trust anchor"
        )
    if root.issuer != root.subject:
        raise UntrustedRootError(
            f"the trusted root {_describe(root)} is issued by {describe_name(root.issuer)}, "
            "not by itself; configure the self-signed network root as the trust anchor"
        )
    try:
        _verify_signature(root, root)
    except BadCertificateSignatureError as exc:
        raise UntrustedRootError(
            f"the trusted root {_describe(root)} is not validly self-signed; "
            "obtain the network root certificate again"
        ) from exc
    _check_validity(root, moment)
    _check_extensions(root)
    _check_can_issue(root)


def _check_link(
    child: x509.Certificate, parent: x509.Certificate, moment: datetime, cas_below: int
) -> None:
    if child.issuer != parent.subject:
        raise WrongIssuerError(
            f"certificate {_describe(child)} is issued by {describe_name(child.issuer)}, "
            f"but the certificate above it in the chain is {_describe(parent)}; order the chain "
            "leaf first and make sure it comes from this network"
        )
    _check_key_identifiers(child, parent)
    _verify_signature(child, parent)
    _check_validity(child, moment)
    _check_extensions(child)
    parent_role = cert_role(parent)
    child_role = cert_role(child)
    if child_role not in ALLOWED_CHILD_ROLES.get(parent_role, frozenset()):
        raise CertificateRoleError(_role_refusal(parent, parent_role, child_role, child))
    _check_can_issue(parent)
    limit = _basic_constraints(parent).path_length
    if limit is not None and cas_below > limit:
        raise CertificateRoleError(
            f"certificate {_describe(parent)} allows at most {limit} CA certificate(s) below it "
            f"but the chain has {cas_below}; remove the extra certificates from the chain"
        )
    try:
        child_key = certificate_public_key(child)
    except InvalidKeyError as exc:
        raise CertificateRoleError(
            f"certificate {_describe(child)} holds an unsupported key ({exc}); re-issue it for "
            "an Ed25519 or ECDSA P-256 key"
        ) from exc
    _check_key_scheme(child_role, child_key, _subject(child))


def _check_key_identifiers(child: x509.Certificate, parent: x509.Certificate) -> None:
    """Names can coincide (a node's CA, TLS and identity certificates all name the node), so
    the key identifiers, where both are present, must agree too."""
    try:
        aki = child.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ski = parent.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return
    if aki.key_identifier is not None and aki.key_identifier != ski.digest:
        raise WrongIssuerError(
            f"certificate {_describe(child)} was issued by a different key than the one in "
            f"{_describe(parent)}, the certificate above it; order the chain leaf first"
        )


def _verify_signature(child: x509.Certificate, parent: x509.Certificate) -> None:
    key = parent.public_key()
    algorithm = child.signature_algorithm_oid
    try:
        if algorithm == SignatureAlgorithmOID.ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes)
            return
        if algorithm == SignatureAlgorithmOID.ECDSA_WITH_SHA256 and isinstance(
            key, ec.EllipticCurvePublicKey
        ):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
            return
    except InvalidSignature as exc:
        raise BadCertificateSignatureError(
            f"the signature on certificate {_describe(child)} does not verify under the key of "
            f"{_describe(parent)}; the certificate was altered or issued by another key with "
            "the same name, so obtain it again from its issuer"
        ) from exc
    raise BadCertificateSignatureError(
        f"certificate {_describe(child)} is signed with {algorithm.dotted_string}, which does "
        f"not match the {type(key).__name__} of {_describe(parent)}; only ECDSA-SHA256 and "
        "Ed25519 signatures are accepted"
    )


def _check_validity(cert: x509.Certificate, moment: datetime) -> None:
    start, end = _validity(cert)
    if moment < start:
        raise CertificateExpiredError(
            f"certificate {_describe(cert)} is not valid until {start:%Y-%m-%d %H:%M:%S} UTC "
            f"(now {moment:%Y-%m-%d %H:%M:%S}); check the clocks of this machine and its issuer"
        )
    if moment > end:
        raise CertificateExpiredError(
            f"certificate {_describe(cert)} expired at {end:%Y-%m-%d %H:%M:%S} UTC "
            f"(now {moment:%Y-%m-%d %H:%M:%S}); have it re-issued"
        )


def _check_extensions(cert: x509.Certificate) -> None:
    try:
        extensions = list(cert.extensions)
    except ValueError as exc:
        raise CertificatePathError(
            f"certificate {_subject(cert)} has malformed extensions: {exc}"
        ) from exc
    for extension in extensions:
        if extension.critical and extension.oid not in _UNDERSTOOD_EXTENSIONS:
            raise CertificatePathError(
                f"certificate {_describe(cert)} has a critical extension "
                f"{extension.oid.dotted_string} this network does not understand; re-issue it "
                "without that extension"
            )


def _check_can_issue(cert: x509.Certificate) -> None:
    if not _basic_constraints(cert).ca:
        raise CertificateRoleError(
            f"certificate {_describe(cert)} is not a CA (BasicConstraints CA=false), so it "
            "cannot issue certificates; use a certificate issued as a CA role"
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise CertificateRoleError(
            f"certificate {_describe(cert)} lacks the keyCertSign key usage, so it cannot issue "
            "certificates; re-issue it as a CA role"
        )


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as exc:
        raise CertificateRoleError(
            f"certificate {_describe(cert)} has no BasicConstraints, so it cannot act as a CA; "
            "re-issue it as a CA role"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Reading certificates.


def certificate_public_key(cert: x509.Certificate) -> SingleKey:
    """The ledger key a certificate certifies."""
    return public_key_from_cryptography(cert.public_key())


def certificate_name(cert: x509.Certificate) -> X500Name:
    """The certificate subject as a legal name."""
    return X500Name.from_x509(cert.subject)


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_from_pem(data: bytes) -> x509.Certificate:
    """The first certificate in PEM `data`."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise CertificateFormatError(f"cannot read a PEM certificate: {exc}") from exc


def certs_from_pem(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, in file order (a chain is stored leaf first)."""
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateFormatError(f"cannot read PEM certificates: {exc}") from exc


def csr_to_pem(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.PEM)


def csr_from_pem(data: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_pem_x509_csr(data)
    except ValueError as exc:
        raise CertificateFormatError(f"cannot read a PEM signing request: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Helpers.


def _now(now: datetime | None) -> datetime:
    """UTC, truncated to the second that X.509 times can hold, so comparisons are exact."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware, e.g. datetime.now(UTC)")
    return now.astimezone(UTC).replace(microsecond=0)


def _check_positive(validity: timedelta) -> None:
    if validity < timedelta(seconds=1):
        raise ValueError(f"a certificate's validity must be at least one second, got {validity}")


def _validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def _subject(cert: x509.Certificate) -> str:
    return describe_name(cert.subject)


def _describe(cert: x509.Certificate) -> str:
    try:
        role = cert_role(cert).name
    except CertificateRoleError:
        role = "no role"
    return f"{_subject(cert)} ({role})"


def _role_refusal(
    issuer: x509.Certificate,
    issuer_role: CertRole,
    role: CertRole,
    child: x509.Certificate | None = None,
) -> str:
    allowed = ", ".join(sorted(r.name for r in ALLOWED_CHILD_ROLES.get(issuer_role, ())))
    issued = f" (it issued {_subject(child)})" if child is not None else ""
    can = f"it may issue only {allowed}" if allowed else "it may issue no certificates"
    parents = [p.name for p, children in ALLOWED_CHILD_ROLES.items() if role in children]
    if parents:
        fix = f"have a {' or '.join(parents)} certificate issue {role.name} instead"
    else:
        fix = f"{role.name} certificates are self-signed with create_self_signed_root"
    return (
        f"certificate {_describe(issuer)} is not allowed to issue {role.name}{issued}: {can}; {fix}"
    )
