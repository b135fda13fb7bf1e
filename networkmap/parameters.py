"""The network parameters the network map serves, epoch by epoch, in its SQLite file.

Each parameters it ever made current stays fetchable by hash (a node resolving an old
transaction needs the parameters it pinned); the current one is named in `settings`, and the
epoch only moves forwards. The network map service composes this and signs with its own key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from dlt.crypto import PrivateKey, SecureHash
from dlt.encoding import decode, encode
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.network_map_types import InvalidNetworkParametersError, SignedNetworkParameters
from networkmap.errors import (
    NetworkParametersRefusedError,
    NoNetworkParametersError,
    NotFoundError,
)
from networkmap.sqlite import create_schema, transaction

_CURRENT_PARAMETERS = "current_parameters"

SCHEMA = """
CREATE TABLE IF NOT EXISTS network_parameters (
    hash TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    signed BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class ParameterEpochs:
    """Signs, stores and serves the network parameters, refusing any epoch that does not move
    forwards."""

    def __init__(
        self,
        database: Path,
        *,
        root_cert: x509.Certificate,
        key: PrivateKey,
        chain: tuple[x509.Certificate, ...],
    ) -> None:
        self.database = database
        self.root_cert = root_cert
        self._key = key
        self._chain = chain
        create_schema(database, SCHEMA)

    def sign(self, parameters: NetworkParameters) -> SignedNetworkParameters:
        """Sign `parameters` with the network map key and make them current."""
        signed = SignedNetworkParameters.sign(parameters, self._key, self._chain)
        self.set(signed)
        return signed

    def set(self, signed: SignedNetworkParameters) -> NetworkParameters:
        """Make `signed` the current parameters; the epoch may only move forwards."""
        try:
            parameters = signed.verify(self.root_cert)
        except InvalidNetworkParametersError as exc:
            raise NetworkParametersRefusedError(str(exc)) from exc
        with transaction(self.database) as db:
            self.store(db, signed, parameters)
        return parameters

    def store(
        self, db: sqlite3.Connection, signed: SignedNetworkParameters, parameters: NetworkParameters
    ) -> None:
        """Make `signed` current inside the caller's transaction (again: no-op)."""
        current = self.current(db)
        if current is not None and current.hash == signed.hash:
            return
        if current is not None and parameters.epoch <= current.epoch:
            raise NetworkParametersRefusedError(
                f"new network parameters must have an epoch above the current "
                f"{current.epoch}, got {parameters.epoch}; bump the epoch"
            )
        db.execute(
            "INSERT OR IGNORE INTO network_parameters (hash, epoch, signed, created_at) "
            "VALUES (?, ?, ?, ?)",
            (str(signed.hash), parameters.epoch, encode(signed), datetime.now(UTC).isoformat()),
        )
        db.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
            (_CURRENT_PARAMETERS, str(signed.hash)),
        )

    def store_next_epoch(
        self, db: sqlite3.Connection, current: NetworkParameters, fields: Mapping[str, Any]
    ) -> NetworkParameters:
        """Sign `fields` as the parameters of the epoch after `current` and make them current."""
        updated = NetworkParameters.model_validate({**fields, "epoch": current.epoch + 1})
        signed = SignedNetworkParameters.sign(updated, self._key, self._chain)
        self.store(db, signed, updated)
        return updated

    def advance(
        self, change: Callable[[NetworkParameters], NetworkParameters | None]
    ) -> NetworkParameters:
        """Apply `change` to the current parameters atomically (one writer transaction, so the
        server's own updates cannot interleave) and make its result current under the next
        epoch; a `change` that returns None leaves the parameters as they are."""
        with transaction(self.database) as db:
            current = self.current(db)
            if current is None:
                raise NoNetworkParametersError(
                    "the network map has no network parameters yet; bootstrap the network home "
                    "first (`python -m networkmap bootstrap`)"
                )
            changed = change(current)
            if changed is None:
                return current
            return self.store_next_epoch(db, current, dict(changed))

    def signed(self, parameters_hash: SecureHash) -> SignedNetworkParameters:
        with transaction(self.database) as db:
            row = db.execute(
                "SELECT signed FROM network_parameters WHERE hash = ?", (str(parameters_hash),)
            ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no network parameters have hash {parameters_hash}; take the hash from the "
                "current network map"
            )
        return decode(row["signed"], SignedNetworkParameters)

    @staticmethod
    def current_hash(db: sqlite3.Connection) -> SecureHash | None:
        row = db.execute(
            "SELECT value FROM settings WHERE key = ?", (_CURRENT_PARAMETERS,)
        ).fetchone()
        return None if row is None else SecureHash.parse(row["value"])

    def current(self, db: sqlite3.Connection) -> NetworkParameters | None:
        parameters_hash = self.current_hash(db)
        if parameters_hash is None:
            return None
        row = db.execute(
            "SELECT signed FROM network_parameters WHERE hash = ?", (str(parameters_hash),)
        ).fetchone()
        signed = decode(row["signed"], SignedNetworkParameters)
        return decode(signed.parameters_bytes, NetworkParameters)
