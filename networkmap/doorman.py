"""The doorman: admits nodes by signing their node CA certificates.

A node sends a CSR for its node CA key and X.500 name. The doorman checks the CSR, refuses a name
already held (or requested) with another key, or one equal to a held name but for case and
spacing, and queues the request; dev mode approves at once, otherwise an operator approves or
rejects it. The node CA it issues is bound to the approved name by critical name constraints
(see dlt.identity.name_constraints): the node can certify nothing else. Its state lives in
SQLite (networkmap.doorman_store); revoking a node and signing CRLs is
networkmap.revocations' job, which the Doorman composes.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

from cryptography import x509

from dlt.crypto import PrivateKey, public_key_from_cryptography
from dlt.identity import (
    CertificatePathError,
    CertRole,
    X500Name,
    certificate_name,
    csr_from_pem,
    sign_csr,
)
from dlt.node.network_map_types import chain_to_pem
from networkmap.doorman_store import (
    SCHEMA,
    Registration,
    RegistrationStatus,
    get_registration,
    normalise_reason,
    now,
    record_serial,
    registration_from_row,
    revoked_at,
)
from networkmap.errors import (
    DoormanError,
    DuplicateNameError,
    InvalidRegistrationError,
    MissingSigningKeyError,
    RegistrationStateError,
    UnknownNodeError,
    UnknownTicketError,
)
from networkmap.registration_checks import (
    check_meter_csr,
    check_node_csr,
    refuse_folded_duplicate,
    refuse_revoked_key,
)
from networkmap.revocations import DEFAULT_CRL_VALIDITY, RevocationAuthority
from networkmap.sqlite import create_schema, transaction

__all__ = [
    "DEFAULT_CRL_VALIDITY",
    "DEFAULT_NODE_CA_VALIDITY",
    "Doorman",
    "DoormanError",
    "DuplicateNameError",
    "InvalidRegistrationError",
    "MissingSigningKeyError",
    "Registration",
    "RegistrationStateError",
    "RegistrationStatus",
    "UnknownNodeError",
    "UnknownTicketError",
    "create_schema",
    "transaction",
]

DEFAULT_NODE_CA_VALIDITY = timedelta(days=3 * 365)


class Doorman:
    """CSR intake, operator decisions and certificate issuance over one SQLite file; revocation
    is delegated to a RevocationAuthority over the same file."""

    def __init__(
        self,
        database: Path,
        *,
        root_cert: x509.Certificate,
        doorman_cert: x509.Certificate,
        doorman_key: PrivateKey | None = None,
        dev_mode: bool = False,
        validity: timedelta = DEFAULT_NODE_CA_VALIDITY,
        crl_validity: timedelta = DEFAULT_CRL_VALIDITY,
    ) -> None:
        self.database = database
        self.root_cert = root_cert
        self.doorman_cert = doorman_cert
        self._doorman_key = doorman_key
        self.dev_mode = dev_mode
        self.validity = validity
        create_schema(database, SCHEMA)
        self._revocations = RevocationAuthority(
            database, doorman_cert=doorman_cert, doorman_key=doorman_key, crl_validity=crl_validity
        )

    # -- intake -----------------------------------------------------------------------------

    def submit(self, csr_pem: bytes) -> Registration:
        """Queue a CSR (approving it at once in dev mode); the same name and key again returns
        the existing registration, so a node may safely resubmit after a lost answer."""
        name, key = check_node_csr(
            csr_pem,
            reserved={certificate_name(self.root_cert), certificate_name(self.doorman_cert)},
        )
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM registrations WHERE name = ? AND status != 'rejected'",
                (str(name),),
            ).fetchone()
            if row is not None:
                existing = registration_from_row(row)
                if revoked_at(db, name) is not None:
                    raise RegistrationStateError(
                        f"{name} was revoked by the network operator; a revoked node cannot "
                        "register again, under that name or with that key"
                    )
                if existing.public_key != key:
                    raise DuplicateNameError(
                        f"{name} is already {existing.status.value} with another key (ticket "
                        f"{existing.ticket}); request a different name, or have the operator "
                        "reject the old request if it was made in error"
                    )
                return self._approve(db, existing) if self.dev_mode else existing
            refuse_folded_duplicate(db, name)
            refuse_revoked_key(db, key)
            ticket = secrets.token_hex(16)
            db.execute(
                "INSERT INTO registrations (ticket, name, public_key, csr_pem, status, "
                "submitted_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                (ticket, str(name), key.encoded, csr_pem, now().isoformat()),
            )
            registration = get_registration(db, ticket)
            if self.dev_mode:
                registration = self._approve(db, registration)
            return registration

    def admit_meter(self, csr_pem: bytes) -> bytes:
        """Issue a METER certificate for a household's metering device, an operator's act.

        The CSR must name the household with CN=Meter (`hierarchy.meter_name`) and hold an
        Ed25519 key, and the household must be an approved node; returns the chain PEM (meter,
        doorman CA, root), which the meter presents with each reading.
        """
        csr, household = check_meter_csr(csr_pem)
        with self._transaction() as db:
            row = db.execute(
                "SELECT status FROM registrations WHERE name = ?", (str(household),)
            ).fetchone()
            revoked = revoked_at(db, household) is not None
        if row is None or row["status"] != RegistrationStatus.APPROVED.value or revoked:
            raise InvalidRegistrationError(
                f"{household} is not an admitted node (or was revoked), so it cannot have a "
                "meter; approve its registration first"
            )
        if self._doorman_key is None:
            raise MissingSigningKeyError("this doorman was opened without the doorman CA key")
        try:
            meter = sign_csr(
                csr=csr,
                issuer_cert=self.doorman_cert,
                issuer_key=self._doorman_key,
                role=CertRole.METER,
                validity=self.validity,
            )
        except (ValueError, CertificatePathError) as exc:
            raise InvalidRegistrationError(f"cannot issue a meter for {household}: {exc}") from exc
        with self._transaction() as db:
            record_serial(db, household, meter, CertRole.METER)
        return chain_to_pem((meter, self.doorman_cert, self.root_cert))

    # -- operator ---------------------------------------------------------------------------

    def approve(self, ticket: str) -> Registration:
        """Issue the node CA certificate for a pending request (again: no-op)."""
        with self._transaction() as db:
            return self._approve(db, get_registration(db, ticket))

    def reject(self, ticket: str, reason: str) -> Registration:
        """Refuse a pending request; the node sees `reason`, so say what it should change."""
        reason = normalise_reason(reason)
        if not reason:
            raise RegistrationStateError("give a reason: the node operator sees it")
        with self._transaction() as db:
            registration = get_registration(db, ticket)
            if registration.status is RegistrationStatus.APPROVED:
                raise RegistrationStateError(
                    f"registration {ticket} for {registration.name} is already approved and its "
                    "certificate issued; it cannot be rejected now"
                )
            if registration.status is RegistrationStatus.REJECTED:
                return registration
            db.execute(
                "UPDATE registrations SET status = 'rejected', reason = ?, decided_at = ? "
                "WHERE ticket = ?",
                (reason, now().isoformat(), ticket),
            )
            return get_registration(db, ticket)

    def status(self, ticket: str) -> Registration:
        with self._transaction() as db:
            return get_registration(db, ticket)

    def pending(self) -> list[Registration]:
        """Requests awaiting an operator, oldest first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM registrations WHERE status = 'pending' ORDER BY submitted_at, ticket"
            ).fetchall()
        return [registration_from_row(row) for row in rows]

    def admitted(self, name: X500Name) -> Registration:
        """The approved, unrevoked registration of `name`, whose chain holds its node CA."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT ticket FROM registrations WHERE name = ? AND status = 'approved'",
                (str(name),),
            ).fetchone()
            registration = None if row is None else get_registration(db, row["ticket"])
        if registration is None or registration.status is not RegistrationStatus.APPROVED:
            state = "was revoked" if registration is not None else "is not an admitted node"
            raise UnknownNodeError(
                f"{name} {state}; only a node the doorman admitted (and did not revoke) counts"
            )
        return registration

    def _approve(self, db: sqlite3.Connection, registration: Registration) -> Registration:
        if registration.status is RegistrationStatus.APPROVED:
            return registration
        if registration.status is RegistrationStatus.REJECTED:
            raise RegistrationStateError(
                f"registration {registration.ticket} for {registration.name} was rejected "
                f"({registration.reason}); the node must submit a new CSR"
            )
        if self._doorman_key is None:
            raise MissingSigningKeyError(
                "this doorman was opened without the doorman CA key, so it cannot issue "
                "certificates; load the key from the network home's ca/ directory"
            )
        row = db.execute(
            "SELECT csr_pem FROM registrations WHERE ticket = ?", (registration.ticket,)
        ).fetchone()
        try:
            node_ca = sign_csr(
                csr=csr_from_pem(row["csr_pem"]),
                issuer_cert=self.doorman_cert,
                issuer_key=self._doorman_key,
                role=CertRole.NODE_CA,
                validity=self.validity,
            )
        except (ValueError, CertificatePathError) as exc:
            raise InvalidRegistrationError(
                f"cannot issue a certificate for {registration.name}: {exc}"
            ) from exc
        chain = chain_to_pem((node_ca, self.doorman_cert, self.root_cert))
        record_serial(db, registration.name, node_ca, CertRole.NODE_CA)
        db.execute(
            "UPDATE registrations SET status = 'approved', certificate_chain_pem = ?, "
            "decided_at = ? WHERE ticket = ?",
            (chain, now().isoformat(), registration.ticket),
        )
        return get_registration(db, registration.ticket)

    def record_bootstrapped(
        self, name: X500Name, node_ca_chain: Sequence[x509.Certificate]
    ) -> None:
        """Record a node CA the bootstrapper issued offline (with this doorman's CA key) as an
        approved registration, so the operator can revoke it like any other."""
        node_ca = node_ca_chain[0]
        key = public_key_from_cryptography(node_ca.public_key())
        at = now().isoformat()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO registrations (ticket, name, public_key, csr_pem, status, "
                "certificate_chain_pem, submitted_at, decided_at) "
                "VALUES (?, ?, ?, ?, 'approved', ?, ?, ?)",
                (
                    secrets.token_hex(16),
                    str(name),
                    key.encoded,
                    b"",
                    chain_to_pem(node_ca_chain),
                    at,
                    at,
                ),
            )
            record_serial(db, name, node_ca, CertRole.NODE_CA)

    def record_issued(self, name: X500Name, cert: x509.Certificate, role: CertRole) -> None:
        """Record a certificate issued offline to `name` (a bootstrapped meter), so revoking
        `name` revokes it too."""
        with self._transaction() as db:
            record_serial(db, name, cert, role)

    # -- revocation (networkmap.revocations) ------------------------------------------------

    @property
    def crl_validity(self) -> timedelta:
        return self._revocations.crl_validity

    def revoke(self, name: X500Name, reason: str) -> Registration:
        """Revoke the admitted node `name`: every certificate the doorman issued it goes on a
        newly signed CRL (again: no-op). Its name stays held, so no one can take it over."""
        return self._revocations.revoke(name, reason)

    def revoked_serials(self) -> frozenset[int]:
        """Serials of every certificate the doorman issued to a node since revoked."""
        return self._revocations.revoked_serials()

    def revoked_names(self) -> frozenset[X500Name]:
        return self._revocations.revoked_names()

    def crl_bundle(self) -> bytes | None:
        """The newest CRL (PEM) followed by the doorman CA certificate that signed it, signed
        afresh when due and this doorman holds its key (see RevocationAuthority.crl_bundle)."""
        return self._revocations.crl_bundle()

    def issue_crl(self) -> bytes:
        """Sign a new CRL (the next number, a fresh next update) over every revocation."""
        return self._revocations.issue_crl()

    # -- storage ----------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.database)
