"""The doorman: admits nodes by signing their node CA certificates.

A node sends a CSR for its node CA key and X.500 name. The doorman checks the CSR, refuses a name
already held (or requested) with another key, or one equal to a held name but for case and
spacing, and queues the request; dev mode approves at once, otherwise an operator approves or
rejects it. The node CA it issues is bound to the approved name by critical name constraints
(see dlt.identity.name_constraints): the node can certify nothing else. Requests live in SQLite,
so a restart, or an operator command run in another process against the same file, sees the
same state.

The operator may revoke an admitted node: the doorman lists the serials of every certificate it
issued the node (its node CA, which signed the node's TLS and identity certificates, and its
meters) in a CRL it signs with the doorman CA key, numbered upwards, which the network map
serves and nodes and brokers check paths against (see dlt.identity.revocation).
"""

from __future__ import annotations

import enum
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from dlt.crypto import (
    InvalidKeyError,
    PrivateKey,
    SignatureScheme,
    SingleKey,
    public_key_from_cryptography,
)
from dlt.encoding import decode
from dlt.identity import (
    CertificateFormatError,
    CertificatePathError,
    CertRole,
    InvalidX500NameError,
    X500Name,
    cert_to_pem,
    certificate_name,
    certs_from_pem,
    csr_from_pem,
    sign_csr,
)
from dlt.identity.revocation import RevokedCertificate, crl_to_pem, issue_crl
from dlt.node.network_map_types import chain_to_pem

DEFAULT_NODE_CA_VALIDITY = timedelta(days=3 * 365)
DEFAULT_CRL_VALIDITY = timedelta(days=30)
CRL_REFRESH_MARGIN = timedelta(days=1)
"""A doorman holding its key re-signs the CRL once it is this close to its next update."""
MAX_REASON_LENGTH = 500
SQLITE_BUSY_TIMEOUT = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registrations (
    ticket TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    csr_pem BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason TEXT,
    certificate_chain_pem BLOB,
    submitted_at TEXT NOT NULL,
    decided_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS registrations_live_name
    ON registrations (name) WHERE status != 'rejected';
CREATE TABLE IF NOT EXISTS issued_certificates (
    serial TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revocations (
    name TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    revoked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS crls (
    number INTEGER PRIMARY KEY,
    bundle_pem BLOB NOT NULL,
    next_update TEXT NOT NULL
);
"""
"""A revoked node keeps its registration row ('approved', so its name stays held and cannot be
registered again by another key); `revocations` says it is revoked, and `issued_certificates`
which serials the CRL lists for it."""


class DoormanError(Exception):
    """Base of the doorman's refusals; each message says what to do instead."""


class InvalidRegistrationError(DoormanError):
    """The CSR is malformed, not signed by its key, badly named or holds the wrong kind of key."""


class DuplicateNameError(DoormanError):
    """The name is already registered, or requested, with a different key."""


class UnknownTicketError(DoormanError):
    """No registration has this ticket."""


class RegistrationStateError(DoormanError):
    """The operator action does not fit the request's state (e.g. approving a rejected one)."""


class MissingSigningKeyError(DoormanError):
    """Signing was asked of a doorman opened without its CA key."""


class UnknownNodeError(DoormanError):
    """No admitted node has this name, so there is nothing to revoke."""


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    """Approved, then revoked by the operator: the certificates issued are on the CRL."""


@dataclass(frozen=True)
class Registration:
    """One certificate request and what became of it."""

    ticket: str
    name: X500Name
    public_key: SingleKey
    status: RegistrationStatus
    submitted_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None
    certificate_chain_pem: bytes | None = None
    """Node CA, doorman CA and root, leaf first; set once approved."""
    revoked_at: datetime | None = None


class Doorman:
    """CSR intake, operator decisions and certificate issuance over one SQLite file."""

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
        self.crl_validity = crl_validity
        self.root_cert = root_cert
        self.doorman_cert = doorman_cert
        self._doorman_key = doorman_key
        self.dev_mode = dev_mode
        self.validity = validity
        create_schema(database, _SCHEMA)

    # -- intake -----------------------------------------------------------------------------

    def submit(self, csr_pem: bytes) -> Registration:
        """Queue a CSR (approving it at once in dev mode); the same name and key again returns
        the existing registration, so a node may safely resubmit after a lost answer."""
        name, key = self._check_csr(csr_pem)
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM registrations WHERE name = ? AND status != 'rejected'",
                (str(name),),
            ).fetchone()
            if row is not None:
                existing = _registration(row)
                if _revoked_at(db, name) is not None:
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
            _refuse_folded_duplicate(db, name)
            _refuse_revoked_key(db, key)
            ticket = secrets.token_hex(16)
            db.execute(
                "INSERT INTO registrations (ticket, name, public_key, csr_pem, status, "
                "submitted_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                (ticket, str(name), key.encoded, csr_pem, _now().isoformat()),
            )
            registration = self._get(db, ticket)
            if self.dev_mode:
                registration = self._approve(db, registration)
            return registration

    def _check_csr(self, csr_pem: bytes) -> tuple[X500Name, SingleKey]:
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
            raise InvalidRegistrationError(
                f"the CSR for {name} holds an unusable key: {exc}"
            ) from exc
        if key.scheme is not SignatureScheme.ECDSA_P256:
            raise InvalidRegistrationError(
                f"the CSR for {name} holds an {key.scheme.value} key, but a node CA key must be "
                "ECDSA P-256; generate it with EcdsaP256PrivateKey.generate()"
            )
        reserved = {certificate_name(self.root_cert), certificate_name(self.doorman_cert)}
        if name in reserved:
            raise InvalidRegistrationError(f"{name} is the name of one of this network's CAs")
        return name, key

    def admit_meter(self, csr_pem: bytes) -> bytes:
        """Issue a METER certificate for a household's metering device, an operator's act.

        The CSR must name the household with CN=Meter (`hierarchy.meter_name`) and hold an
        Ed25519 key, and the household must be an approved node; returns the chain PEM (meter,
        doorman CA, root), which the meter presents with each reading.
        """
        try:
            csr = csr_from_pem(csr_pem)
            name = X500Name.from_x509(csr.subject)
        except (CertificateFormatError, InvalidX500NameError) as exc:
            raise InvalidRegistrationError(f"not a meter's signing request: {exc}") from exc
        if name.common_name != "Meter" or not csr.is_signature_valid:
            raise InvalidRegistrationError(
                f"a meter's CSR names its household with CN=Meter and is signed by its key; "
                f"got {name}"
            )
        household = X500Name(
            name.organisation,
            name.locality,
            name.country,
            organisation_unit=name.organisation_unit,
            state=name.state,
        )
        with self._transaction() as db:
            row = db.execute(
                "SELECT status FROM registrations WHERE name = ?", (str(household),)
            ).fetchone()
            revoked = _revoked_at(db, household) is not None
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
            _record_issued(db, household, meter, CertRole.METER)
        return chain_to_pem((meter, self.doorman_cert, self.root_cert))

    # -- operator ---------------------------------------------------------------------------

    def approve(self, ticket: str) -> Registration:
        """Issue the node CA certificate for a pending request (again: no-op)."""
        with self._transaction() as db:
            return self._approve(db, self._get(db, ticket))

    def reject(self, ticket: str, reason: str) -> Registration:
        """Refuse a pending request; the node sees `reason`, so say what it should change."""
        reason = " ".join(reason.split())[:MAX_REASON_LENGTH]
        if not reason:
            raise RegistrationStateError("give a reason: the node operator sees it")
        with self._transaction() as db:
            registration = self._get(db, ticket)
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
                (reason, _now().isoformat(), ticket),
            )
            return self._get(db, ticket)

    def status(self, ticket: str) -> Registration:
        with self._transaction() as db:
            return self._get(db, ticket)

    def pending(self) -> list[Registration]:
        """Requests awaiting an operator, oldest first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM registrations WHERE status = 'pending' ORDER BY submitted_at, ticket"
            ).fetchall()
        return [_registration(row) for row in rows]

    def admitted(self, name: X500Name) -> Registration:
        """The approved, unrevoked registration of `name`, whose chain holds its node CA."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT ticket FROM registrations WHERE name = ? AND status = 'approved'",
                (str(name),),
            ).fetchone()
            registration = None if row is None else self._get(db, row["ticket"])
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
        _record_issued(db, registration.name, node_ca, CertRole.NODE_CA)
        db.execute(
            "UPDATE registrations SET status = 'approved', certificate_chain_pem = ?, "
            "decided_at = ? WHERE ticket = ?",
            (chain, _now().isoformat(), registration.ticket),
        )
        return self._get(db, registration.ticket)

    def record_bootstrapped(
        self, name: X500Name, node_ca_chain: Sequence[x509.Certificate]
    ) -> None:
        """Record a node CA the bootstrapper issued offline (with this doorman's CA key) as an
        approved registration, so the operator can revoke it like any other."""
        node_ca = node_ca_chain[0]
        key = public_key_from_cryptography(node_ca.public_key())
        now = _now().isoformat()
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
                    now,
                    now,
                ),
            )
            _record_issued(db, name, node_ca, CertRole.NODE_CA)

    def record_issued(self, name: X500Name, cert: x509.Certificate, role: CertRole) -> None:
        """Record a certificate issued offline to `name` (a bootstrapped meter), so revoking
        `name` revokes it too."""
        with self._transaction() as db:
            _record_issued(db, name, cert, role)

    # -- revocation -------------------------------------------------------------------------

    def revoke(self, name: X500Name, reason: str) -> Registration:
        """Revoke the admitted node `name`: every certificate the doorman issued it goes on a
        newly signed CRL (again: no-op). Its name stays held, so no one can take it over."""
        reason = " ".join(reason.split())[:MAX_REASON_LENGTH]
        if not reason:
            raise RegistrationStateError("give a reason for the revocation: it is recorded")
        if self._doorman_key is None:
            raise MissingSigningKeyError(
                "this doorman was opened without the doorman CA key, so it cannot sign the "
                "CRL; load the key from the network home's ca/ directory"
            )
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM registrations WHERE name = ? AND status = 'approved'", (str(name),)
            ).fetchone()
            if row is None:
                raise UnknownNodeError(
                    f"no admitted node is called {name}; revoke a node by its exact X.500 name "
                    "as its registration shows it"
                )
            if _revoked_at(db, name) is None:
                chain = certs_from_pem(row["certificate_chain_pem"])
                _record_issued(db, name, chain[0], CertRole.NODE_CA)
                db.execute(
                    "INSERT INTO revocations (name, reason, revoked_at) VALUES (?, ?, ?)",
                    (str(name), reason, _now().isoformat()),
                )
                self._issue_crl(db)
            return self._get(db, row["ticket"])

    def revoked_serials(self) -> frozenset[int]:
        """Serials of every certificate the doorman issued to a node since revoked."""
        with self._transaction() as db:
            return frozenset(int(serial, 16) for serial, _ in _revoked_entries(db))

    def revoked_names(self) -> frozenset[X500Name]:
        with self._transaction() as db:
            return frozenset(
                X500Name.parse(row["name"]) for row in db.execute("SELECT name FROM revocations")
            )

    def crl_bundle(self) -> bytes | None:
        """The newest CRL (PEM) followed by the doorman CA certificate that signed it; a doorman
        holding its key signs a fresh one when there is none or it is near its next update.
        None when no CRL was ever issued and this doorman cannot sign one."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT bundle_pem, next_update FROM crls ORDER BY number DESC LIMIT 1"
            ).fetchone()
            due = row is None or datetime.fromisoformat(row["next_update"]) - _now() < (
                CRL_REFRESH_MARGIN
            )
            if due and self._doorman_key is not None:
                return self._issue_crl(db)
        return None if row is None else bytes(row["bundle_pem"])

    def issue_crl(self) -> bytes:
        """Sign a new CRL (the next number, a fresh next update) over every revocation."""
        if self._doorman_key is None:
            raise MissingSigningKeyError(
                "this doorman was opened without the doorman CA key, so it cannot sign the CRL"
            )
        with self._transaction() as db:
            return self._issue_crl(db)

    def _issue_crl(self, db: sqlite3.Connection) -> bytes:
        assert self._doorman_key is not None
        (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM crls").fetchone()
        now = _now()
        next_update = now + self.crl_validity
        crl = issue_crl(
            issuer_cert=self.doorman_cert,
            issuer_key=self._doorman_key,
            revoked=[
                RevokedCertificate(int(serial, 16), datetime.fromisoformat(revoked_at))
                for serial, revoked_at in _revoked_entries(db)
            ],
            number=last + 1,
            this_update=now,
            next_update=next_update,
        )
        bundle = crl_to_pem(crl) + cert_to_pem(self.doorman_cert)
        db.execute(
            "INSERT INTO crls (number, bundle_pem, next_update) VALUES (?, ?, ?)",
            (last + 1, bundle, next_update.isoformat()),
        )
        return bundle

    # -- storage ----------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.database)

    @staticmethod
    def _get(db: sqlite3.Connection, ticket: str) -> Registration:
        row = db.execute(
            "SELECT r.*, v.reason AS revocation_reason, v.revoked_at FROM registrations r "
            "LEFT JOIN revocations v ON v.name = r.name AND r.status = 'approved' "
            "WHERE r.ticket = ?",
            (ticket,),
        ).fetchone()
        if row is None:
            raise UnknownTicketError(
                f"no registration has ticket {ticket!r}; list open requests with "
                "`python -m networkmap pending --home DIR`"
            )
        registration = _registration(row)
        if row["revoked_at"] is None:
            return registration
        return replace(
            registration,
            status=RegistrationStatus.REVOKED,
            reason=row["revocation_reason"],
            revoked_at=datetime.fromisoformat(row["revoked_at"]),
        )


def _record_issued(
    db: sqlite3.Connection, name: X500Name, cert: x509.Certificate, role: CertRole
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO issued_certificates (serial, name, role, issued_at) "
        "VALUES (?, ?, ?, ?)",
        (f"{cert.serial_number:x}", str(name), role.name, _now().isoformat()),
    )


def _revoked_at(db: sqlite3.Connection, name: X500Name) -> str | None:
    row = db.execute("SELECT revoked_at FROM revocations WHERE name = ?", (str(name),)).fetchone()
    return None if row is None else row["revoked_at"]


def _revoked_entries(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(serial in hex, revoked at) of every certificate issued to a revoked node."""
    return [
        (row["serial"], row["revoked_at"])
        for row in db.execute(
            "SELECT i.serial, v.revoked_at FROM issued_certificates i "
            "JOIN revocations v ON v.name = i.name ORDER BY i.serial"
        )
    ]


def _refuse_folded_duplicate(db: sqlite3.Connection, name: X500Name) -> None:
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


def _refuse_revoked_key(db: sqlite3.Connection, key: SingleKey) -> None:
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


def _registration(row: sqlite3.Row) -> Registration:
    decided = row["decided_at"]
    return Registration(
        ticket=row["ticket"],
        name=X500Name.parse(row["name"]),
        public_key=decode(row["public_key"], SingleKey),
        status=RegistrationStatus(row["status"]),
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        decided_at=datetime.fromisoformat(decided) if decided else None,
        reason=row["reason"],
        certificate_chain_pem=row["certificate_chain_pem"],
    )


def create_schema(database: Path, schema: str) -> None:
    """Create tables (idempotently) outside any transaction, as executescript requires."""
    with closing(sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT)) as db:
        db.executescript(schema)


@contextmanager
def transaction(database: Path) -> Iterator[sqlite3.Connection]:
    """One short-lived connection in an immediate (writer) transaction, so the server's threads
    and other processes (the operator CLI) serialise on the file's lock."""
    db = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


def _now() -> datetime:
    return datetime.now(UTC)
