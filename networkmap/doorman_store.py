"""The doorman's SQLite tables and the queries its intake and revocation share.

Requests live in SQLite, so a restart, or an operator command run in another process against the
same file, sees the same state. A revoked node keeps its registration row ('approved', so its
name stays held and cannot be registered again by another key); `revocations` says it is
revoked, and `issued_certificates` which serials the CRL lists for it.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cryptography import x509

from dlt.crypto import SingleKey
from dlt.encoding import decode
from dlt.identity import CertRole, X500Name
from networkmap.errors import UnknownTicketError

MAX_REASON_LENGTH = 500

SCHEMA = """
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


def get_registration(db: sqlite3.Connection, ticket: str) -> Registration:
    """The registration under `ticket`, read as revoked when its node was."""
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
    registration = registration_from_row(row)
    if row["revoked_at"] is None:
        return registration
    return replace(
        registration,
        status=RegistrationStatus.REVOKED,
        reason=row["revocation_reason"],
        revoked_at=datetime.fromisoformat(row["revoked_at"]),
    )


def registration_from_row(row: sqlite3.Row) -> Registration:
    """A `registrations` row as stored, without what the `revocations` table says of it."""
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


def record_serial(
    db: sqlite3.Connection, name: X500Name, cert: x509.Certificate, role: CertRole
) -> None:
    """Remember the serial of a certificate issued to `name`, so revoking `name` lists it."""
    db.execute(
        "INSERT OR IGNORE INTO issued_certificates (serial, name, role, issued_at) "
        "VALUES (?, ?, ?, ?)",
        (f"{cert.serial_number:x}", str(name), role.name, now().isoformat()),
    )


def revoked_at(db: sqlite3.Connection, name: X500Name) -> str | None:
    row = db.execute("SELECT revoked_at FROM revocations WHERE name = ?", (str(name),)).fetchone()
    return None if row is None else row["revoked_at"]


def revoked_entries(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(serial in hex, revoked at) of every certificate issued to a revoked node."""
    return [
        (row["serial"], row["revoked_at"])
        for row in db.execute(
            "SELECT i.serial, v.revoked_at FROM issued_certificates i "
            "JOIN revocations v ON v.name = i.name ORDER BY i.serial"
        )
    ]


def normalise_reason(reason: str) -> str:
    """One line of at most MAX_REASON_LENGTH characters, as a rejection or revocation records it."""
    return " ".join(reason.split())[:MAX_REASON_LENGTH]


def now() -> datetime:
    return datetime.now(UTC)
