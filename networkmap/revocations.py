"""Revocation of admitted nodes and the CRLs that list them.

The operator may revoke an admitted node: the doorman lists the serials of every certificate it
issued the node (its node CA, which signed the node's TLS and identity certificates, and its
meters) in a CRL it signs with the doorman CA key, numbered upwards, which the network map
serves and nodes and brokers check paths against (see dlt.identity.revocation).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

from dlt.crypto import PrivateKey
from dlt.identity import CertRole, X500Name, cert_to_pem, certs_from_pem
from dlt.identity.revocation import RevokedCertificate, crl_to_pem, issue_crl
from networkmap.doorman_store import (
    Registration,
    get_registration,
    normalise_reason,
    now,
    record_serial,
    revoked_at,
    revoked_entries,
)
from networkmap.errors import MissingSigningKeyError, RegistrationStateError, UnknownNodeError
from networkmap.sqlite import transaction

DEFAULT_CRL_VALIDITY = timedelta(days=30)
CRL_REFRESH_MARGIN = timedelta(days=1)
"""A doorman holding its key re-signs the CRL once it is this close to its next update."""


class RevocationAuthority:
    """Records revocations in the doorman's SQLite file and signs CRLs with the doorman CA key;
    the Doorman composes it (see `Doorman.revoke`)."""

    def __init__(
        self,
        database: Path,
        *,
        doorman_cert: x509.Certificate,
        doorman_key: PrivateKey | None,
        crl_validity: timedelta = DEFAULT_CRL_VALIDITY,
    ) -> None:
        self.database = database
        self.doorman_cert = doorman_cert
        self.crl_validity = crl_validity
        self._doorman_key = doorman_key

    def revoke(self, name: X500Name, reason: str) -> Registration:
        """Revoke the admitted node `name`: every certificate the doorman issued it goes on a
        newly signed CRL (again: no-op). Its name stays held, so no one can take it over."""
        reason = normalise_reason(reason)
        if not reason:
            raise RegistrationStateError("give a reason for the revocation: it is recorded")
        if self._doorman_key is None:
            raise MissingSigningKeyError(
                "this doorman was opened without the doorman CA key, so it cannot sign the "
                "CRL; load the key from the network home's ca/ directory"
            )
        with transaction(self.database) as db:
            row = db.execute(
                "SELECT * FROM registrations WHERE name = ? AND status = 'approved'", (str(name),)
            ).fetchone()
            if row is None:
                raise UnknownNodeError(
                    f"no admitted node is called {name}; revoke a node by its exact X.500 name "
                    "as its registration shows it"
                )
            if revoked_at(db, name) is None:
                chain = certs_from_pem(row["certificate_chain_pem"])
                record_serial(db, name, chain[0], CertRole.NODE_CA)
                db.execute(
                    "INSERT INTO revocations (name, reason, revoked_at) VALUES (?, ?, ?)",
                    (str(name), reason, now().isoformat()),
                )
                self._issue_crl(db)
            return get_registration(db, row["ticket"])

    def revoked_serials(self) -> frozenset[int]:
        """Serials of every certificate the doorman issued to a node since revoked."""
        with transaction(self.database) as db:
            return frozenset(int(serial, 16) for serial, _ in revoked_entries(db))

    def revoked_names(self) -> frozenset[X500Name]:
        with transaction(self.database) as db:
            return frozenset(
                X500Name.parse(row["name"]) for row in db.execute("SELECT name FROM revocations")
            )

    def crl_bundle(self) -> bytes | None:
        """The newest CRL (PEM) followed by the doorman CA certificate that signed it; a doorman
        holding its key signs a fresh one when there is none or it is near its next update.
        None when no CRL was ever issued and this doorman cannot sign one."""
        with transaction(self.database) as db:
            row = db.execute(
                "SELECT bundle_pem, next_update FROM crls ORDER BY number DESC LIMIT 1"
            ).fetchone()
            due = row is None or datetime.fromisoformat(row["next_update"]) - now() < (
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
        with transaction(self.database) as db:
            return self._issue_crl(db)

    def _issue_crl(self, db: sqlite3.Connection) -> bytes:
        assert self._doorman_key is not None
        (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM crls").fetchone()
        moment = now()
        next_update = moment + self.crl_validity
        crl = issue_crl(
            issuer_cert=self.doorman_cert,
            issuer_key=self._doorman_key,
            revoked=[
                RevokedCertificate(int(serial, 16), datetime.fromisoformat(at))
                for serial, at in revoked_entries(db)
            ],
            number=last + 1,
            this_update=moment,
            next_update=next_update,
        )
        bundle = crl_to_pem(crl) + cert_to_pem(self.doorman_cert)
        db.execute(
            "INSERT INTO crls (number, bundle_pem, next_update) VALUES (?, ?, ?)",
            (last + 1, bundle, next_update.isoformat()),
        )
        return bundle
