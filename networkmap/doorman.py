"""The doorman: admits nodes by signing their node CA certificates.

A node sends a CSR for its node CA key and X.500 name. The doorman checks the CSR, refuses a name
already held (or requested) with another key, or one equal to a held name but for case and
spacing, and queues the request; dev mode approves at once, otherwise an operator approves or
rejects it. The node CA it issues is bound to the approved name by critical name constraints
(see dlt.identity.name_constraints): the node can certify nothing else. Requests live in SQLite,
so a restart, or an operator command run in another process against the same file, sees the
same state.
"""

from __future__ import annotations

import enum
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
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
    certificate_name,
    csr_from_pem,
    sign_csr,
)
from dlt.node.network_map_types import chain_to_pem

DEFAULT_NODE_CA_VALIDITY = timedelta(days=3 * 365)
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
"""


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


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


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
    ) -> None:
        self.database = database
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
                if existing.public_key != key:
                    raise DuplicateNameError(
                        f"{name} is already {existing.status.value} with another key (ticket "
                        f"{existing.ticket}); request a different name, or have the operator "
                        "reject the old request if it was made in error"
                    )
                return self._approve(db, existing) if self.dev_mode else existing
            _refuse_folded_duplicate(db, name)
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
        if row is None or row["status"] != RegistrationStatus.APPROVED.value:
            raise InvalidRegistrationError(
                f"{household} is not an admitted node, so it cannot have a meter; approve its "
                "registration first"
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
        db.execute(
            "UPDATE registrations SET status = 'approved', certificate_chain_pem = ?, "
            "decided_at = ? WHERE ticket = ?",
            (chain, _now().isoformat(), registration.ticket),
        )
        return self._get(db, registration.ticket)

    # -- storage ----------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.database)

    @staticmethod
    def _get(db: sqlite3.Connection, ticket: str) -> Registration:
        row = db.execute("SELECT * FROM registrations WHERE ticket = ?", (ticket,)).fetchone()
        if row is None:
            raise UnknownTicketError(
                f"no registration has ticket {ticket!r}; list open requests with "
                "`python -m networkmap pending --home DIR`"
            )
        return _registration(row)


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
