"""The network map service: collects signed NodeInfos and serves the signed map and parameters.

A NodeInfo is accepted only if its identity chain leads to the network root through *our*
doorman, its identity matches its certificate and its node signed it. The newest serial per node
name wins; older NodeInfos stay fetchable by hash, since a node may be reading a map listing them.
State lives in SQLite next to the doorman's, so a restart serves the same map. A node the
doorman revoked is dropped from the map and may publish nothing more. The network parameters,
epoch by epoch, are networkmap.parameters' job, which the service composes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509

from dlt.crypto import PrivateKey, PublicKey, SecureHash
from dlt.encoding import DecodingError, decode, encode
from dlt.identity import (
    CertificatePathError,
    CertRole,
    X500Name,
    cert_role,
    certificate_public_key,
)
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.network_map_types import (
    InvalidNodeInfoError,
    NetworkMap,
    SignedNetworkMap,
    SignedNetworkParameters,
    SignedNodeInfo,
)
from networkmap.errors import (
    MalformedSubmissionError,
    NetworkMapServiceError,
    NetworkParametersRefusedError,
    NodeInfoRefusedError,
    NoNetworkParametersError,
    NotFoundError,
    RevokedNodeError,
    StaleNodeInfoError,
)
from networkmap.parameters import ParameterEpochs
from networkmap.sqlite import create_schema, transaction

__all__ = [
    "MalformedSubmissionError",
    "NetworkMapService",
    "NetworkMapServiceError",
    "NetworkParametersRefusedError",
    "NoNetworkParametersError",
    "NodeInfoRefusedError",
    "NotFoundError",
    "Revocations",
    "RevokedNodeError",
    "StaleNodeInfoError",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS node_infos (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    serial INTEGER NOT NULL,
    signed BLOB NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS current_node_infos (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL REFERENCES node_infos (hash)
);
"""


class Revocations(Protocol):
    """What the doorman revoked (see `Doorman.revoke`), read anew on each use: the operator
    revokes from another process."""

    def revoked_serials(self) -> frozenset[int]: ...

    def revoked_names(self) -> frozenset[X500Name]: ...


class NetworkMapService:
    """Accepts SignedNodeInfos and serves the signed network map, node infos and parameters."""

    def __init__(
        self,
        database: Path,
        *,
        root_cert: x509.Certificate,
        doorman_cert: x509.Certificate,
        network_map_cert: x509.Certificate,
        network_map_key: PrivateKey,
        trusted_names: Mapping[str, Sequence[X500Name]] | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        """`trusted_names` says, per purpose (such as "energy.market-rules"), which admitted
        nodes' legal identity keys the parameters trust for it: when such a node publishes
        its NodeInfo, the service issues parameters of a new epoch naming its key."""
        if network_map_key.public_key != certificate_public_key(network_map_cert):
            raise ValueError(
                "the network map key does not belong to the network map certificate; load the "
                "key and certificate from the same network home"
            )
        if cert_role(network_map_cert) is not CertRole.NETWORK_MAP:
            raise ValueError("the network map certificate must have the NETWORK_MAP role")
        self.database = database
        self.root_cert = root_cert
        self.doorman_cert = doorman_cert
        self._chain = (network_map_cert, root_cert)
        self._key = network_map_key
        self._lock = threading.Lock()
        self._cached_map: tuple[NetworkMap, SignedNetworkMap] | None = None
        self._revocations = revocations
        self._trusted_names = {
            purpose: tuple(names) for purpose, names in (trusted_names or {}).items()
        }
        create_schema(database, _SCHEMA)
        self._parameters = ParameterEpochs(
            database, root_cert=root_cert, key=network_map_key, chain=self._chain
        )

    # -- network parameters -----------------------------------------------------------------

    def sign_network_parameters(self, parameters: NetworkParameters) -> SignedNetworkParameters:
        """Sign `parameters` with the network map key and make them current."""
        return self._parameters.sign(parameters)

    def set_network_parameters(self, signed: SignedNetworkParameters) -> NetworkParameters:
        """Make `signed` the current parameters; the epoch may only move forwards."""
        return self._parameters.set(signed)

    def _trust_published_keys(self, db: sqlite3.Connection) -> None:
        """Parameters of a new epoch when the keys of the nodes trusted for some purpose
        differ from what the current parameters name."""
        current = self._parameters.current(db)
        if current is None or not self._trusted_names:
            return
        signers = dict(current.trusted_signers)
        for purpose, names in self._trusted_names.items():
            keys = tuple(
                key for name in names if (key := self._published_key(db, name)) is not None
            )
            if keys:
                signers[purpose] = keys
        if signers == current.trusted_signers:
            return
        self._parameters.store_next_epoch(
            db, current, {**dict(current), "trusted_signers": signers}
        )

    def advance_parameters(
        self, change: Callable[[NetworkParameters], NetworkParameters | None]
    ) -> NetworkParameters:
        """Apply `change` to the current parameters atomically (one writer transaction, so the
        server's own updates cannot interleave) and make its result current under the next
        epoch; a `change` that returns None leaves the parameters as they are."""
        return self._parameters.advance(change)

    def published_node_info(self, name: X500Name) -> SignedNodeInfo | None:
        """The newest NodeInfo `name` published (verified when it was), if any."""
        with self._transaction() as db:
            return self._published(db, name)

    def _published_key(self, db: sqlite3.Connection, name: X500Name) -> PublicKey | None:
        signed = self._published(db, name)
        return None if signed is None else signed.node_info().legal_identity.owning_key

    @staticmethod
    def _published(db: sqlite3.Connection, name: X500Name) -> SignedNodeInfo | None:
        """Only NodeInfos that verified on publication are stored."""
        row = db.execute(
            "SELECT n.signed FROM current_node_infos c JOIN node_infos n ON n.hash = c.hash "
            "WHERE c.name = ?",
            (str(name),),
        ).fetchone()
        return None if row is None else decode(row["signed"], SignedNodeInfo)

    def current_parameters(self) -> NetworkParameters | None:
        with self._transaction() as db:
            return self._parameters.current(db)

    def signed_network_parameters(self, parameters_hash: SecureHash) -> SignedNetworkParameters:
        return self._parameters.signed(parameters_hash)

    # -- node infos -------------------------------------------------------------------------

    def publish(self, data: bytes) -> SecureHash:
        """Accept an encoded SignedNodeInfo; returns the hash the map lists it under."""
        try:
            signed = decode(data, SignedNodeInfo)
        except DecodingError as exc:
            raise MalformedSubmissionError(
                f"the body is not an encoded SignedNodeInfo: {exc}"
            ) from exc
        try:
            info = signed.verify(self.root_cert)
        except InvalidNodeInfoError as exc:
            raise NodeInfoRefusedError(str(exc)) from exc
        self._check_our_doorman(signed, str(info.name))
        self._check_not_revoked(signed, info.name)
        with self._transaction() as db:
            parameters = self._parameters.current(db)
            if (
                parameters is not None
                and info.platform_version < parameters.minimum_platform_version
            ):
                raise NodeInfoRefusedError(
                    f"{info.name} runs platform version {info.platform_version}, below the "
                    f"network's minimum {parameters.minimum_platform_version}; upgrade the node"
                )
            current = db.execute(
                "SELECT n.hash, n.serial FROM current_node_infos c JOIN node_infos n "
                "ON n.hash = c.hash WHERE c.name = ?",
                (str(info.name),),
            ).fetchone()
            if current is not None:
                if current["hash"] == str(signed.hash):
                    return signed.hash
                if info.serial <= current["serial"]:
                    raise StaleNodeInfoError(
                        f"{info.name} already published serial {current['serial']}; a new "
                        f"NodeInfo needs a higher serial than that, got {info.serial}"
                    )
            db.execute(
                "INSERT OR IGNORE INTO node_infos (hash, name, serial, signed, published_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (str(signed.hash), str(info.name), info.serial, encode(signed), _now()),
            )
            db.execute(
                "INSERT OR REPLACE INTO current_node_infos (name, hash) VALUES (?, ?)",
                (str(info.name), str(signed.hash)),
            )
            self._trust_published_keys(db)
        return signed.hash

    def _check_our_doorman(self, signed: SignedNodeInfo, name: str) -> None:
        """The root may have several doormen; this map lists only nodes ours admitted."""
        try:
            doormen = [c for c in signed.identity_chain if cert_role(c) is CertRole.DOORMAN_CA]
        except CertificatePathError as exc:
            raise NodeInfoRefusedError(
                f"the identity chain of {name} is unreadable: {exc}"
            ) from exc
        if doormen != [self.doorman_cert]:
            raise NodeInfoRefusedError(
                f"the node CA of {name} was not issued by this network's doorman "
                f"({self.doorman_cert.subject.rfc4514_string()}); register with this doorman"
            )

    def _check_not_revoked(self, signed: SignedNodeInfo, name: X500Name) -> None:
        if self._revocations is None:
            return
        serials = self._revocations.revoked_serials()
        revoked = [
            c
            for c in signed.identity_chain
            if c.issuer == self.doorman_cert.subject and c.serial_number in serials
        ]
        if revoked or name in self._revocations.revoked_names():
            raise RevokedNodeError(
                f"{name} was revoked by the network operator; a revoked node may not publish "
                "to the network map"
            )

    def signed_node_info(self, node_info_hash: SecureHash) -> SignedNodeInfo:
        with self._transaction() as db:
            row = db.execute(
                "SELECT signed FROM node_infos WHERE hash = ?", (str(node_info_hash),)
            ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no NodeInfo has hash {node_info_hash}; take hashes from the current network map"
            )
        return decode(row["signed"], SignedNodeInfo)

    # -- the map ----------------------------------------------------------------------------

    def network_map(self) -> NetworkMap:
        """The current map, unsigned: the newest NodeInfo hash per node not revoked, sorted."""
        revoked = {str(n) for n in self._revocations.revoked_names()} if self._revocations else ()
        with self._transaction() as db:
            hashes = [
                SecureHash.parse(row["hash"])
                for row in db.execute("SELECT name, hash FROM current_node_infos ORDER BY hash")
                if row["name"] not in revoked
            ]
            parameters_hash = self._parameters.current_hash(db)
        if parameters_hash is None:
            raise NoNetworkParametersError(
                "the network map has no network parameters yet; start the service from a "
                "bootstrapped home (network-parameters.signed)"
            )
        return NetworkMap(node_info_hashes=tuple(hashes), parameters_hash=parameters_hash)

    def signed_network_map(self) -> SignedNetworkMap:
        """The current map signed by the network map key; re-signed only when it changes."""
        network_map = self.network_map()
        with self._lock:
            if self._cached_map is None or self._cached_map[0] != network_map:
                signed = SignedNetworkMap.sign(network_map, self._key, self._chain)
                self._cached_map = (network_map, signed)
            return self._cached_map[1]

    # -- storage ----------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.database)


def _now() -> str:
    return datetime.now(UTC).isoformat()
