"""A node's client for the doorman and network map service, over HTTPS trusting only the root.

The calls block (http.client); `fetch_all` runs them in worker threads so a node's event loop
keeps going. Everything the service returns is verified against the network root before it is
returned: the service is a courier, not an authority.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

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
_TICKET = re.compile(r"^[0-9a-f]{32}$")

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
        self._host = parts.hostname
        self._port = parts.port or 443
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        try:
            self.root_cert = cert_from_pem(root_cert_pem)
        except CertificateFormatError as exc:
            raise ValueError(f"the network root certificate is not PEM: {exc}") from exc
        self._ssl = ssl.create_default_context(cadata=root_cert_pem.decode("ascii"))
        self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2

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
        """The current network map, verified against the root."""
        url, _, body = self._call("GET", "/network-map", expect=(200,))
        signed = self._decode(url, body, SignedNetworkMap)
        return self._verified(url, lambda: signed.verify(self.root_cert, now))

    def node_info(self, node_info_hash: SecureHash, now: datetime | None = None) -> NodeInfo:
        """The NodeInfo listed under `node_info_hash`, verified against the root."""
        url, _, body = self._call("GET", f"/node-info/{node_info_hash}", expect=(200,))
        signed = self._decode(url, body, SignedNodeInfo)
        if signed.hash != node_info_hash:
            raise InvalidResponseError(url, f"asked for {node_info_hash}, got {signed.hash}")
        return self._verified(url, lambda: signed.verify(self.root_cert, now))

    def network_parameters(
        self, parameters_hash: SecureHash, now: datetime | None = None
    ) -> NetworkParameters:
        """The network parameters with `parameters_hash`, verified against the root."""
        path = f"/network-parameters/{parameters_hash}"
        url, _, body = self._call("GET", path, expect=(200,))
        signed = self._decode(url, body, SignedNetworkParameters)
        if signed.hash != parameters_hash:
            raise InvalidResponseError(url, f"asked for {parameters_hash}, got {signed.hash}")
        return self._verified(url, lambda: signed.verify(self.root_cert, now))

    def health(self) -> None:
        """Return if the service answers; raise `NetworkMapUnavailableError` otherwise."""
        self._call("GET", "/health", expect=(200,))

    async def fetch_all(self) -> tuple[NetworkParameters, list[NodeInfo]]:
        """The current parameters and every listed NodeInfo, all verified, fetched off-loop."""
        network_map = await asyncio.to_thread(self.network_map)
        limit = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def fetch_node(node_info_hash: SecureHash) -> NodeInfo:
            async with limit:
                return await asyncio.to_thread(self.node_info, node_info_hash)

        parameters, infos = await asyncio.gather(
            asyncio.to_thread(self.network_parameters, network_map.parameters_hash),
            asyncio.gather(*(fetch_node(h) for h in network_map.node_info_hashes)),
        )
        return parameters, list(infos)

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
        url = self.base_url + path
        headers = {"Accept": f"{CBOR}, {PEM}, text/plain"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPSConnection(
            self._host, self._port, context=self._ssl, timeout=self._timeout
        )
        try:
            connection.request(method, self._prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            data = response.read(MAX_RESPONSE_BYTES + 1)
        except ssl.SSLCertVerificationError as exc:
            raise NetworkMapTrustError(
                url,
                f"its TLS certificate is not trusted ({exc.verify_message}); the server does "
                "not belong to the network whose root this client trusts",
            ) from exc
        except ssl.SSLError as exc:
            raise NetworkMapTrustError(url, f"the TLS handshake failed: {exc}") from exc
        except TimeoutError as exc:
            raise NetworkMapUnavailableError(url, f"no answer within {self._timeout} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise NetworkMapUnavailableError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            connection.close()
        if len(data) > MAX_RESPONSE_BYTES:
            raise InvalidResponseError(url, f"the response exceeds {MAX_RESPONSE_BYTES} bytes")
        if status >= 500:
            raise NetworkMapUnavailableError(url, f"HTTP {status}: {_reason(data)}")
        if status not in expect:
            raise NetworkMapRequestError(url, status, _reason(data))
        return url, status, data

    @staticmethod
    def _decode(url: str, body: bytes, expected: type[T]) -> T:
        try:
            return decode(body, expected)
        except DecodingError as exc:
            raise InvalidResponseError(url, f"not a {expected.__name__}: {exc}") from exc

    @staticmethod
    def _verified(url: str, verify: Callable[[], T]) -> T:
        try:
            return verify()
        except NetworkMapVerificationError as exc:
            raise InvalidResponseError(url, str(exc)) from exc


def _reason(body: bytes) -> str:
    """The server's one-line reason from an error body."""
    text = body.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:500] if text else "(no reason given)"
