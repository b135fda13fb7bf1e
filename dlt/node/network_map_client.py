"""A node's client for the doorman and network map service, over HTTPS trusting only the root.

One httpx client per service keeps its connections alive (HTTP/1.1), so a poll costs no TLS
handshake. The calls block; `fetch_all` runs them in worker threads (the client may be shared
between threads) so a node's event loop keeps going. The map is fetched conditionally: while it
is unchanged the service answers 304 to our ETag, and NodeInfos and parameters, addressed by the
hash of their content, are downloaded once. Everything the service returns is verified against
the network root before it is returned: the service is a courier, not an authority. A verified
object is remembered with the period in which every certificate behind it is valid, and is
re-verified from its bytes outside that period, so reuse is exactly as strict as checking anew.

The doorman's CRL is fetched with the map, conditionally too, and verified against the doorman
CA under the root; a NodeInfo whose identity chain holds a revoked certificate is left out of
what `fetch_all` returns. Once a CRL was seen, one with a lower number, or none at all, is
refused: the service cannot hide a revocation by replaying or withdrawing the list.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from dlt.crypto import SecureHash, SingleKey, public_key_from_cryptography
from dlt.crypto.errors import InvalidKeyError
from dlt.encoding import DecodingError, decode, encode
from dlt.identity import (
    CertificateFormatError,
    CertificatePathError,
    CertRole,
    InvalidCsrError,
    InvalidX500NameError,
    X500Name,
    cert_from_pem,
    cert_role,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    csr_from_pem,
    validate_path,
)
from dlt.identity.revocation import CertificateRevokedError, InvalidCrlError, RevocationList
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.network_map_types import (
    NetworkMap,
    NetworkMapVerificationError,
    SignedNetworkMap,
    SignedNetworkParameters,
    SignedNodeInfo,
)
from dlt.node.node_info import NodeInfo

CBOR = "application/cbor"
PEM = "application/x-pem-file"
DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
FETCH_CONCURRENCY = 8
KEEP_ALIVE_SECONDS = 60
"""Idle connections are kept this long: longer than a node's poll interval, shorter than the
service's own keep-alive, so the client is the side that closes them."""
_TICKET = re.compile(r"^[0-9a-f]{32}$")

log = logging.getLogger(__name__)

T = TypeVar("T")


class NetworkMapClientError(Exception):
    """Base of everything the network map client raises."""


class NetworkMapUnavailableError(NetworkMapClientError):
    """The service cannot be reached, timed out, or failed (5xx); retry later."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"network map service at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class NetworkMapTrustError(NetworkMapUnavailableError):
    """The TLS handshake failed: the server's certificate does not chain to the network root."""


class NetworkMapRequestError(NetworkMapClientError):
    """The service refused a request (4xx); `reason` is its one-line explanation."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"network map service refused {url} (HTTP {status}): {reason}")
        self.url = url
        self.status = status
        self.reason = reason


class RegistrationRejectedError(NetworkMapClientError):
    """The doorman operator rejected the registration; submit a new CSR once the cause is fixed."""

    def __init__(self, ticket: RegistrationTicket, reason: str) -> None:
        super().__init__(f"registration {ticket.id} for {ticket.name} was rejected: {reason}")
        self.ticket = ticket
        self.reason = reason


class InvalidResponseError(NetworkMapClientError):
    """The service answered with data that is malformed or does not verify; do not use it."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"network map service at {url} sent untrustworthy data: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class RegistrationTicket:
    """A pending certificate request: keep it (e.g. on disk) to poll across restarts."""

    id: str
    name: X500Name
    public_key: SingleKey
    """The node CA key the CSR carried; the issued certificate must hold this key."""

    def __str__(self) -> str:
        return self.id


class NetworkMapClient:
    """Blocking calls to one network map service; every response is verified before use."""

    def __init__(
        self, base_url: str, root_cert_pem: bytes, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                f"the network map URL must be https://host:port, got {base_url!r}; "
                "the service is only offered over TLS"
            )
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        try:
            self.root_cert = cert_from_pem(root_cert_pem)
        except CertificateFormatError as exc:
            raise ValueError(f"the network root certificate is not PEM: {exc}") from exc
        context = ssl.create_default_context(cadata=root_cert_pem.decode("ascii"))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._http = httpx.Client(
            verify=context,
            timeout=timeout,
            headers={"Accept": f"{CBOR}, {PEM}, text/plain"},
            limits=httpx.Limits(
                max_connections=FETCH_CONCURRENCY,
                max_keepalive_connections=FETCH_CONCURRENCY,
                keepalive_expiry=KEEP_ALIVE_SECONDS,
            ),
            trust_env=False,
        )
        self._lock = threading.Lock()
        self._map: _LastMap | None = None
        """The last map received and its ETag, for the next conditional request."""
        self._verified: dict[tuple[str, SecureHash], _Verified[object]] = {}
        self._crl: _LastCrl | None = None
        """The last CRL received, its ETag and what it verified to."""
        self._checked_against: RevocationList | None = None
        self._checked: dict[SecureHash, bool] = {}
        """Whether each NodeInfo's certificate path is revoked, by the CRL it was checked
        against: a poll that finds the same CRL checks only NodeInfos new since."""

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    def __enter__(self) -> NetworkMapClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- doorman ----------------------------------------------------------------------------

    def register(self, csr_pem: bytes, name: X500Name) -> RegistrationTicket:
        """Submit a CSR for a node CA certificate naming `name`; returns the ticket to poll."""
        try:
            csr = csr_from_pem(csr_pem)
            requested = X500Name.from_x509(csr.subject)
            key = public_key_from_cryptography(csr.public_key())
        except (CertificateFormatError, InvalidX500NameError, InvalidKeyError) as exc:
            raise InvalidCsrError(f"cannot register with this CSR: {exc}") from exc
        if requested != name:
            raise InvalidCsrError(
                f"the CSR asks for {requested}, not {name}; create the CSR for the node's name"
            )
        url, _, body = self._call("POST", "/certificate", csr_pem, PEM, expect=(200,))
        ticket = body.decode("ascii", "replace").strip()
        if not _TICKET.match(ticket):
            raise InvalidResponseError(url, f"expected a registration ticket, got {ticket[:80]!r}")
        return RegistrationTicket(id=ticket, name=name, public_key=key)

    def poll_registration(
        self, ticket: RegistrationTicket, now: datetime | None = None
    ) -> bytes | None:
        """The certificate chain PEM (node CA, doorman CA, root) once issued; None while pending.

        Raises `RegistrationRejectedError` if the operator rejected the request.
        """
        url, status, body = self._call("GET", f"/certificate/{ticket.id}", expect=(200, 202, 403))
        if status == 202:
            return None
        if status == 403:
            raise RegistrationRejectedError(ticket, _reason(body).removeprefix("rejected: "))
        self._check_issued_chain(url, ticket, body, now)
        return body

    def _check_issued_chain(
        self, url: str, ticket: RegistrationTicket, chain_pem: bytes, now: datetime | None
    ) -> None:
        try:
            chain = certs_from_pem(chain_pem)
            validate_path(chain, self.root_cert, now)
            leaf = chain[0]
            role = cert_role(leaf)
        except (CertificateFormatError, CertificatePathError) as exc:
            raise InvalidResponseError(
                url, f"the issued certificate chain is invalid: {exc}"
            ) from exc
        if role is not CertRole.NODE_CA:
            raise InvalidResponseError(url, f"the issued certificate is {role.name}, not NODE_CA")
        if (
            certificate_name(leaf) != ticket.name
            or certificate_public_key(leaf) != ticket.public_key
        ):
            raise InvalidResponseError(
                url,
                f"the issued certificate is for {certificate_name(leaf)} with another key, not "
                f"for {ticket.name} with the key of the CSR",
            )

    # -- network map ------------------------------------------------------------------------

    def publish(self, signed: SignedNodeInfo) -> SecureHash:
        """Publish our signed NodeInfo; returns the hash the map lists it under."""
        url, _, body = self._call("POST", "/publish", encode(signed), CBOR, expect=(200,))
        published = body.decode("ascii", "replace").strip()
        if published != str(signed.hash):
            raise InvalidResponseError(
                url, f"the service listed the NodeInfo as {published[:80]!r}, not {signed.hash}"
            )
        return signed.hash

    def network_map(self, now: datetime | None = None) -> NetworkMap:
        """The current network map, verified against the root; one bodiless 304 if unchanged."""
        previous = self._map
        headers = {} if previous is None else {"If-None-Match": previous.etag}
        url, status, body, etag = self._request("GET", "/network-map", headers, expect=(200, 304))
        if status == 304:
            if previous is None:
                raise InvalidResponseError(url, "answered 304 to a request that named no map")
            signed, digest = previous.signed, previous.digest
        else:
            signed, digest = self._decode(url, body, SignedNetworkMap), SecureHash.sha256(body)
            self._map = _LastMap(etag, signed, digest) if etag else None
        key = ("map", digest)
        return self._remember(url, key, signed.verify, signed.certificate_chain_pem, now)

    def identity_chain(self, node_info_hash: SecureHash) -> tuple[x509.Certificate, ...] | None:
        """The certificate path a fetched NodeInfo was verified with; None if not fetched."""
        with self._lock:
            entry = self._verified.get(("node-info", node_info_hash))
        return None if entry is None else entry.chain

    def revocations(self, now: datetime | None = None) -> RevocationList | None:
        """The doorman's CRL, verified against the root; None while the doorman has issued
        none. A CRL older than one seen before, or a missing one after one was seen, is
        refused as untrustworthy."""
        moment = now or datetime.now(UTC)
        previous = self._crl
        headers = {} if previous is None else {"If-None-Match": previous.etag}
        url, status, body, etag = self._request(
            "GET", "/network-map/crl", headers, expect=(200, 304, 404)
        )
        if status == 404:
            if previous is not None:
                raise InvalidResponseError(
                    url, f"the service withdrew the CRL (number {previous.crl.number} was served)"
                )
            return None
        if status == 304:
            if previous is None:
                raise InvalidResponseError(url, "answered 304 to a request that named no CRL")
            # The very bytes verified against the root before: their signature holds still.
            return previous.crl
        try:
            crl = RevocationList.verify(body, self.root_cert, moment)
        except InvalidCrlError as exc:
            raise InvalidResponseError(url, str(exc)) from exc
        if previous is not None and crl.number < previous.crl.number:
            raise InvalidResponseError(
                url,
                f"the service sent CRL number {crl.number}, older than number "
                f"{previous.crl.number} it served before",
            )
        if crl.expired(moment) and (previous is None or previous.crl.number != crl.number):
            log.warning(
                "the doorman's CRL number %d expired at %s: the revocations it lists still "
                "hold, but newer ones may be missing; the operator must issue a new one "
                "(python -m networkmap crl --home DIR)",
                crl.number,
                crl.next_update.isoformat(),
            )
        self._crl = _LastCrl(etag or "", body, crl)
        return crl

    def node_info(self, node_info_hash: SecureHash, now: datetime | None = None) -> NodeInfo:
        """The NodeInfo listed under `node_info_hash`, verified against the root; downloaded
        once, since the hash names its content."""
        cached = self._recall(("node-info", node_info_hash), now)
        if cached is not None:
            return cached  # type: ignore[return-value]
        url, _, body = self._call("GET", f"/node-info/{node_info_hash}", expect=(200,))
        signed = self._decode(url, body, SignedNodeInfo)
        if signed.hash != node_info_hash:
            raise InvalidResponseError(url, f"asked for {node_info_hash}, got {signed.hash}")
        key = ("node-info", node_info_hash)
        return self._remember(url, key, signed.verify, signed.identity_chain_pem, now)

    def network_parameters(
        self, parameters_hash: SecureHash, now: datetime | None = None
    ) -> NetworkParameters:
        """The network parameters with `parameters_hash`, verified against the root;
        downloaded once, since the hash names their content."""
        cached = self._recall(("parameters", parameters_hash), now)
        if cached is not None:
            return cached  # type: ignore[return-value]
        path = f"/network-parameters/{parameters_hash}"
        url, _, body = self._call("GET", path, expect=(200,))
        signed = self._decode(url, body, SignedNetworkParameters)
        if signed.hash != parameters_hash:
            raise InvalidResponseError(url, f"asked for {parameters_hash}, got {signed.hash}")
        key = ("parameters", parameters_hash)
        return self._remember(url, key, signed.verify, signed.certificate_chain_pem, now)

    def health(self) -> None:
        """Return if the service answers; raise `NetworkMapUnavailableError` otherwise."""
        self._call("GET", "/health", expect=(200,))

    async def fetch_all(self) -> tuple[NetworkParameters, list[NodeInfo]]:
        """The current parameters and every listed NodeInfo not revoked, all verified, fetched
        off-loop.

        Only what is not already verified is downloaded: with an unchanged map and CRL this is
        two conditional requests answered by a 304."""
        network_map = await asyncio.to_thread(self.network_map)
        crl = await asyncio.to_thread(self.revocations)
        limit = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def fetch_node(node_info_hash: SecureHash) -> NodeInfo:
            cached = self._recall(("node-info", node_info_hash), None)
            if cached is not None:
                return cached  # type: ignore[return-value]
            async with limit:
                return await asyncio.to_thread(self.node_info, node_info_hash)

        async def fetch_parameters(parameters_hash: SecureHash) -> NetworkParameters:
            cached = self._recall(("parameters", parameters_hash), None)
            if cached is not None:
                return cached  # type: ignore[return-value]
            return await asyncio.to_thread(self.network_parameters, parameters_hash)

        parameters, infos = await asyncio.gather(
            fetch_parameters(network_map.parameters_hash),
            asyncio.gather(*(fetch_node(h) for h in network_map.node_info_hashes)),
        )
        admitted = [
            info
            for node_info_hash, info in zip(network_map.node_info_hashes, infos, strict=True)
            if not self._revoked(crl, node_info_hash, info)
        ]
        listed = set(network_map.node_info_hashes)
        self._checked = {h: revoked for h, revoked in self._checked.items() if h in listed}
        self._forget_all_but(
            {("parameters", network_map.parameters_hash)}
            | {("node-info", h) for h in network_map.node_info_hashes}
            | ({("map", self._map.digest)} if self._map is not None else set())
        )
        return parameters, admitted

    def _revoked(
        self, crl: RevocationList | None, node_info_hash: SecureHash, info: NodeInfo
    ) -> bool:
        chain = self.identity_chain(node_info_hash)
        if crl is None or chain is None:
            return False
        if self._checked_against is not crl:
            self._checked_against, self._checked = crl, {}
        known = self._checked.get(node_info_hash)
        if known is not None:
            return known
        try:
            crl.check_path(chain, f"the NodeInfo of {info.name}")
        except CertificateRevokedError as exc:
            log.warning("left out of the network map: %s", exc)
            self._checked[node_info_hash] = True
            return True
        self._checked[node_info_hash] = False
        return False

    # -- verified objects -------------------------------------------------------------------

    def _recall(self, key: tuple[str, SecureHash], now: datetime | None) -> object | None:
        """A verified object, if it was verified and every certificate behind it is valid at
        `now`; None when it must be fetched and verified (again)."""
        with self._lock:
            entry = self._verified.get(key)
        if entry is None or not entry.holds_at(now or datetime.now(UTC)):
            return None
        return entry.value

    def _remember(
        self,
        url: str,
        key: tuple[str, SecureHash],
        verify: Callable[[x509.Certificate, datetime], T],
        chain_pem: bytes,
        now: datetime | None,
    ) -> T:
        """`verify` at `now` unless already verified and still in its certificates' validity;
        a freshly verified object is kept with that validity period."""
        moment = now or datetime.now(UTC)
        cached = self._recall(key, moment)
        if cached is not None:
            return cached  # type: ignore[return-value]
        value = self._verified_value(url, lambda: verify(self.root_cert, moment))
        chain = tuple(certs_from_pem(chain_pem))
        valid_from, valid_until = _validity([*chain, self.root_cert])
        with self._lock:
            self._verified[key] = _Verified(value, valid_from, valid_until, chain)
        return value

    def _forget_all_but(self, keep: set[tuple[str, SecureHash]]) -> None:
        with self._lock:
            for key in [key for key in self._verified if key not in keep]:
                del self._verified[key]

    # -- transport --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        *,
        expect: tuple[int, ...],
    ) -> tuple[str, int, bytes]:
        """(url, status, body) of one request; maps every failure to a typed error."""
        headers = {} if content_type is None else {"Content-Type": content_type}
        url, status, data, _ = self._request(method, path, headers, body, expect=expect)
        return url, status, data

    def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        *,
        expect: tuple[int, ...],
    ) -> tuple[str, int, bytes, str | None]:
        """(url, status, body, ETag) of one request over a kept-alive connection."""
        url = self.base_url + path
        try:
            with self._http.stream(method, url, content=body, headers=headers) as response:
                status = response.status_code
                data = _read_bounded(response.iter_bytes())
                etag = response.headers.get("etag")
        except httpx.TimeoutException as exc:
            raise NetworkMapUnavailableError(url, f"no answer within {self._timeout} s") from exc
        except httpx.TransportError as exc:
            raise _transport_error(url, exc) from exc
        if len(data) > MAX_RESPONSE_BYTES:
            raise InvalidResponseError(url, f"the response exceeds {MAX_RESPONSE_BYTES} bytes")
        if status >= 500:
            raise NetworkMapUnavailableError(url, f"HTTP {status}: {_reason(data)}")
        if status not in expect:
            raise NetworkMapRequestError(url, status, _reason(data))
        return url, status, data, etag

    @staticmethod
    def _decode(url: str, body: bytes, expected: type[T]) -> T:
        try:
            return decode(body, expected)
        except DecodingError as exc:
            raise InvalidResponseError(url, f"not a {expected.__name__}: {exc}") from exc

    @staticmethod
    def _verified_value(url: str, verify: Callable[[], T]) -> T:
        try:
            return verify()
        except NetworkMapVerificationError as exc:
            raise InvalidResponseError(url, str(exc)) from exc


def _reason(body: bytes) -> str:
    """The server's one-line reason from an error body."""
    text = body.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:500] if text else "(no reason given)"


@dataclass(frozen=True)
class _LastMap:
    etag: str
    signed: SignedNetworkMap
    digest: SecureHash
    """SHA-256 of the map's bytes as received: what its verification is remembered under."""


@dataclass(frozen=True)
class _LastCrl:
    etag: str
    bundle: bytes
    crl: RevocationList


@dataclass(frozen=True)
class _Verified(Generic[T]):
    """A verified object and the period in which every certificate it was verified with holds;
    outside that period verification would fail, inside it would pass again."""

    value: T
    valid_from: datetime
    valid_until: datetime
    chain: tuple[x509.Certificate, ...] = ()
    """The certificates the object was verified with, leaf first: revocation checks them."""

    def holds_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until


def _validity(certs: Sequence[x509.Certificate]) -> tuple[datetime, datetime]:
    """The period in which all of `certs` are valid."""
    return (
        max(cert.not_valid_before_utc for cert in certs),
        min(cert.not_valid_after_utc for cert in certs),
    )


def _read_bounded(chunks: Iterator[bytes]) -> bytes:
    """At most MAX_RESPONSE_BYTES + 1 bytes of a body: enough to tell it is too large."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            break
    return b"".join(parts)


def _transport_error(url: str, exc: httpx.TransportError) -> NetworkMapUnavailableError:
    """A failure below HTTP as a typed error; TLS failures say the server is not trusted."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return NetworkMapTrustError(
                url,
                f"its TLS certificate is not trusted ({cause.verify_message}); the server does "
                "not belong to the network whose root this client trusts",
            )
        if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            # The server closed the connection mid-handshake (restarting, overloaded):
            # nothing says it is not the network's, so this is worth asking again.
            return NetworkMapUnavailableError(url, f"the connection closed during TLS: {cause}")
        if isinstance(cause, ssl.SSLError):
            return NetworkMapTrustError(url, f"the TLS handshake failed: {cause}")
        cause = cause.__cause__ or cause.__context__
    return NetworkMapUnavailableError(url, f"{type(exc).__name__}: {exc}")
