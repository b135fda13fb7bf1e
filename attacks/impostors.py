"""What a dishonest node can make with its own node CA key and any X.509 library.

`mint_tls` builds a TLS certificate exactly as an honest one looks (key usages, extended key
usages, key identifiers, role), but with none of our issuing checks, so specifications can show
that the name constraints, not the issuing code, stop a node from certifying another name.
`mint_node_ca` builds a node CA the way the doorman did before name constraints. The attack
suite's impersonation scenario and the broker specifications both use them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import CertRole
from dlt.identity.certificates import role_extension

LOOPBACK = x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))


def mint_tls(
    issuer: x509.Certificate,
    issuer_key: EcdsaP256PrivateKey,
    subject: x509.Name,
    alt_names: Sequence[x509.GeneralName] = (LOOPBACK,),
    *,
    valid_from: timedelta = timedelta(minutes=-1),
    valid_until: timedelta = timedelta(days=1),
) -> tuple[x509.Certificate, EcdsaP256PrivateKey]:
    """A TLS server and client certificate for `subject`, signed by `issuer_key`, valid from
    now + `valid_from` to now + `valid_until` (both may lie in the past)."""
    usage = x509.KeyUsage(True, False, False, False, True, False, False, False, False)
    extra: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
        (
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            False,
        ),
        (x509.SubjectAlternativeName(list(alt_names)), False),
    ]
    return _mint(issuer, issuer_key, subject, CertRole.TLS, extra, valid_from, valid_until)


def mint_node_ca(
    doorman: x509.Certificate, doorman_key: EcdsaP256PrivateKey, subject: x509.Name
) -> tuple[x509.Certificate, EcdsaP256PrivateKey]:
    """A node CA without name constraints, as the doorman issued them before they existed."""
    usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
    extra: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=1), True),
        (usage, True),
    ]
    return _mint(doorman, doorman_key, subject, CertRole.NODE_CA, extra)


def _mint(
    issuer: x509.Certificate,
    issuer_key: EcdsaP256PrivateKey,
    subject: x509.Name,
    role: CertRole,
    extensions: Sequence[tuple[x509.ExtensionType, bool]],
    valid_from: timedelta = timedelta(minutes=-1),
    valid_until: timedelta = timedelta(days=1),
) -> tuple[x509.Certificate, EcdsaP256PrivateKey]:
    key = EcdsaP256PrivateKey.generate()
    now = datetime.now(UTC)
    public = key.public_key.to_cryptography()
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid_from)
        .not_valid_after(now + valid_until)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
        .add_extension(role_extension(role), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key.to_cryptography(), hashes.SHA256()), key
