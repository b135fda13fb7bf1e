"""The rules a registration request must pass before the doorman queues or signs it: a node's
CSR and a meter's, a name no one else holds in another case or spacing, a key not revoked."""

from __future__ import annotations

import sqlite3

from cryptography import x509

from dlt.crypto import InvalidKeyError, SignatureScheme, SingleKey, public_key_from_cryptography
from dlt.identity import CertificateFormatError, InvalidX500NameError, X500Name, csr_from_pem
from networkmap.errors import DuplicateNameError, InvalidRegistrationError, RegistrationStateError


def check_node_csr(csr_pem: bytes, *, reserved: set[X500Name]) -> tuple[X500Name, SingleKey]:
    """The name and node CA key a node's CSR asks for, if it is well formed, self-signed, names
    a legal entity other than one of the network's CAs (`reserved`) and holds a P-256 key."""
    try:
        csr = csr_from_pem(csr_pem)
    except CertificateFormatError as exc:
        raise InvalidRegistrationError(
            f"the body is not a PEM certificate signing request: {exc}"
        ) from exc
    try:
        name = X500Name.from_x509(csr.subject)
    except InvalidX500NameError as exc:
        raise InvalidRegistrationError(
            f"the CSR does not name a legal entity ({exc}); use O=..., L=..., C=.. "
            "(optionally OU, CN, ST)"
        ) from exc
    if not csr.is_signature_valid:
        raise InvalidRegistrationError(
            f"the CSR for {name} is not signed by the key it contains; create it with "
            "create_csr and the node CA key"
        )
    try:
        key = public_key_from_cryptography(csr.public_key())
    except InvalidKeyError as exc:
        raise InvalidRegistrationError(f"the CSR for {name} holds an unusable key: {exc}") from exc
    if key.scheme is not SignatureScheme.ECDSA_P256:
        raise InvalidRegistrationError(
            f"the CSR for {name} holds an {key.scheme.value} key, but a node CA key must be "
            "ECDSA P-256; generate it with EcdsaP256PrivateKey.generate()"
        )
    if name in reserved:
        raise InvalidRegistrationError(f"{name} is the name of one of this network's CAs")
    return name, key


def check_meter_csr(csr_pem: bytes) -> tuple[x509.CertificateSigningRequest, X500Name]:
    """The CSR and the household it names, if it is a meter's: CN=Meter under the household
    (`hierarchy.meter_name`), signed by its key."""
    try:
        csr = csr_from_pem(csr_pem)
        name = X500Name.from_x509(csr.subject)
    except (CertificateFormatError, InvalidX500NameError) as exc:
        raise InvalidRegistrationError(f"not a meter's signing request: {exc}") from exc
    if name.common_name != "Meter" or not csr.is_signature_valid:
        raise InvalidRegistrationError(
            f"a meter's CSR names its household with CN=Meter and is signed by its key; got {name}"
        )
    household = X500Name(
        name.organisation,
        name.locality,
        name.country,
        organisation_unit=name.organisation_unit,
        state=name.state,
    )
    return csr, household


def refuse_folded_duplicate(db: sqlite3.Connection, name: X500Name) -> None:
    """Two names equal but for case or spacing are one name to TLS stacks that fold them (the
    broker's Erlang/OTP does, when it applies name constraints), so only one may be held."""
    key = name.comparison_key()
    for (held,) in db.execute("SELECT name FROM registrations WHERE status != 'rejected'"):
        other = X500Name.parse(held)
        if other.comparison_key() == key:
            raise DuplicateNameError(
                f"{name} differs from '{other}', which is already registered, only in case or "
                "spacing; request a name that differs in letters"
            )


def refuse_revoked_key(db: sqlite3.Connection, key: SingleKey) -> None:
    """A revoked node's key stays revoked: it may not come back under a new name."""
    row = db.execute(
        "SELECT r.name FROM registrations r JOIN revocations v ON v.name = r.name "
        "WHERE r.public_key = ?",
        (key.encoded,),
    ).fetchone()
    if row is not None:
        raise RegistrationStateError(
            f"this key belongs to {row['name']}, which the network operator revoked; generate "
            "a new node CA key"
        )
