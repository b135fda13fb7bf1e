"""Signed network-map data: what the network map serves, and what a node checks before using it.

Every signature is over the canonical encoding of the signed object, and that encoding carries
the registered type name, so a signature over a NodeInfo can never pass for one over a
NetworkMap or over a transaction. The signed bytes travel as they were signed, so a verifier
checks exactly what the signer saw. Certificate chains travel as PEM bundles, leaf first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Self, TypeVar

from cryptography import x509

from dlt.crypto import InvalidSignatureError, PrivateKey, SecureHash
from dlt.encoding import DecodingError, decode, encode, serializable
from dlt.identity import (
    CertificateFormatError,
    CertificatePathError,
    CertRole,
    cert_role,
    cert_to_pem,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    validate_path,
)
from dlt.ledger.network_parameters import NetworkParameters
from dlt.ledger.states import LedgerModel
from dlt.node.node_info import NodeInfo


class NetworkMapVerificationError(ValueError):
    """Signed network-map data that cannot be trusted; the message says what failed and why."""


class InvalidNodeInfoError(NetworkMapVerificationError):
    """A SignedNodeInfo whose encoding, identity chain, identity or signature does not check."""


class InvalidNetworkMapError(NetworkMapVerificationError):
    """A SignedNetworkMap not signed by this network's network-map certificate."""


class InvalidNetworkParametersError(NetworkMapVerificationError):
    """SignedNetworkParameters not signed by this network's network-map certificate."""


def chain_to_pem(chain: Sequence[x509.Certificate]) -> bytes:
    """A leaf-first PEM bundle of `chain`."""
    return b"".join(cert_to_pem(cert) for cert in chain)


def _without_root(chain: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The chain minus a trailing root CA: verifiers hold the root, so it is never sent."""
    certs = list(chain)
    if len(certs) > 1 and certs[-1].issuer == certs[-1].subject:
        certs.pop()
    return certs


def _read_chain(
    chain_pem: bytes, role: CertRole, what: str, error: type[NetworkMapVerificationError]
) -> list[x509.Certificate]:
    """Parse a leaf-first PEM chain and require its leaf to have been issued for `role`."""
    try:
        chain = certs_from_pem(chain_pem)
    except CertificateFormatError as exc:
        raise error(f"the certificate chain of {what} is not PEM: {exc}") from exc
    if not chain:
        raise error(f"{what} carries no certificates; sign it with its certificate chain")
    try:
        leaf_role = cert_role(chain[0])
    except CertificatePathError as exc:
        raise error(f"the certificate that signed {what} has no usable role: {exc}") from exc
    if leaf_role is not role:
        raise error(
            f"{what} is signed with a {leaf_role.name} certificate, but only a {role.name} "
            "certificate may sign it; sign it with the right key and chain"
        )
    return chain


def _check_chain(
    chain: Sequence[x509.Certificate],
    trusted_root: x509.Certificate,
    now: datetime | None,
    what: str,
    error: type[NetworkMapVerificationError],
) -> None:
    try:
        validate_path(chain, trusted_root, now)
    except CertificatePathError as exc:
        raise error(
            f"the certificate chain of {what} does not lead to this network's root: {exc}"
        ) from exc


def _check_signature(
    chain: Sequence[x509.Certificate],
    data: bytes,
    signature: bytes,
    what: str,
    error: type[NetworkMapVerificationError],
) -> None:
    key = certificate_public_key(chain[0])
    try:
        key.verify(signature, data)
    except InvalidSignatureError as exc:
        raise error(
            f"the signature on {what} does not verify under the key of its certificate "
            f"{certificate_name(chain[0])}; the data was altered or signed with another key"
        ) from exc


@serializable("networkmap.SignedNodeInfo")
class SignedNodeInfo(LedgerModel):
    """A NodeInfo as its node signed it with its legal identity key, with the chain proving it.

    `identity_chain_pem` runs from the legal identity certificate up to and including the
    doorman CA; the verifier supplies the root.
    """

    node_info_bytes: bytes
    signature: bytes
    identity_chain_pem: bytes

    @classmethod
    def sign(
        cls, info: NodeInfo, key: PrivateKey, identity_chain: Sequence[x509.Certificate]
    ) -> Self:
        """Sign `info` with its legal identity key; a trailing root in the chain is dropped."""
        if key.public_key != info.legal_identity.owning_key:
            raise InvalidNodeInfoError(
                f"the key {key.public_key!r} is not the legal identity key of {info.name}; "
                "sign the NodeInfo with the key its legal_identity names"
            )
        data = encode(info)
        return cls(
            node_info_bytes=data,
            signature=key.sign(data),
            identity_chain_pem=chain_to_pem(_without_root(identity_chain)),
        )

    @property
    def hash(self) -> SecureHash:
        """What the network map lists: the hash of the signed NodeInfo bytes."""
        return SecureHash.sha256(self.node_info_bytes)

    @property
    def identity_chain(self) -> list[x509.Certificate]:
        """The certificates carried, leaf (legal identity) first."""
        return certs_from_pem(self.identity_chain_pem)

    def node_info(self) -> NodeInfo:
        """The NodeInfo, decoded but NOT verified; use `verify` before trusting it."""
        try:
            return decode(self.node_info_bytes, NodeInfo)
        except DecodingError as exc:
            raise InvalidNodeInfoError(
                f"node_info_bytes are not a canonical NodeInfo encoding: {exc}"
            ) from exc

    def verify(self, trusted_root: x509.Certificate, now: datetime | None = None) -> NodeInfo:
        """The NodeInfo, once its chain leads to `trusted_root`, its identity matches the
        legal identity certificate and its signature checks; `InvalidNodeInfoError` otherwise."""
        info = self.node_info()
        what = f"the NodeInfo of {info.name}"
        chain = _read_chain(
            self.identity_chain_pem, CertRole.LEGAL_IDENTITY, what, InvalidNodeInfoError
        )
        _check_chain(chain, trusted_root, now, what, InvalidNodeInfoError)
        cert_name = certificate_name(chain[0])
        if cert_name != info.name:
            raise InvalidNodeInfoError(
                f"{what} names {info.name}, but its legal identity certificate is for "
                f"{cert_name}; publish a NodeInfo for the name the doorman certified"
            )
        if certificate_public_key(chain[0]) != info.legal_identity.owning_key:
            raise InvalidNodeInfoError(
                f"{what} advertises a legal identity key that is not the one in its legal "
                "identity certificate; build the NodeInfo from the certified key"
            )
        _check_signature(chain, self.node_info_bytes, self.signature, what, InvalidNodeInfoError)
        return info


@serializable("networkmap.NetworkMap")
class NetworkMap(LedgerModel):
    """Who is on the network (hashes of their signed NodeInfos) and which parameters apply."""

    node_info_hashes: tuple[SecureHash, ...]
    parameters_hash: SecureHash


@serializable("networkmap.SignedNetworkMap")
class SignedNetworkMap(LedgerModel):
    """A NetworkMap signed by the network-map certificate, which it carries (leaf first)."""

    network_map_bytes: bytes
    signature: bytes
    certificate_chain_pem: bytes

    @classmethod
    def sign(
        cls, network_map: NetworkMap, key: PrivateKey, chain: Sequence[x509.Certificate]
    ) -> Self:
        """Sign `network_map` with the network map key; `chain` starts at its certificate."""
        data = encode(network_map)
        return cls(
            network_map_bytes=data,
            signature=key.sign(data),
            certificate_chain_pem=chain_to_pem(chain),
        )

    def verify(self, trusted_root: x509.Certificate, now: datetime | None = None) -> NetworkMap:
        """The NetworkMap, once the network-map certificate's signature over it checks."""
        return _verify_by_network_map(
            self.network_map_bytes,
            self.signature,
            self.certificate_chain_pem,
            trusted_root,
            now,
            NetworkMap,
            "the network map",
            InvalidNetworkMapError,
        )


@serializable("networkmap.SignedNetworkParameters")
class SignedNetworkParameters(LedgerModel):
    """NetworkParameters signed by the network-map certificate, which it carries (leaf first)."""

    parameters_bytes: bytes
    signature: bytes
    certificate_chain_pem: bytes

    @classmethod
    def sign(
        cls, parameters: NetworkParameters, key: PrivateKey, chain: Sequence[x509.Certificate]
    ) -> Self:
        """Sign `parameters` with the network map key; `chain` starts at its certificate."""
        data = encode(parameters)
        return cls(
            parameters_bytes=data,
            signature=key.sign(data),
            certificate_chain_pem=chain_to_pem(chain),
        )

    @property
    def hash(self) -> SecureHash:
        """Equal to `NetworkParameters.hash`, since the bytes are the canonical encoding."""
        return SecureHash.sha256(self.parameters_bytes)

    def verify(
        self, trusted_root: x509.Certificate, now: datetime | None = None
    ) -> NetworkParameters:
        """The parameters, once the network-map certificate's signature over them checks."""
        return _verify_by_network_map(
            self.parameters_bytes,
            self.signature,
            self.certificate_chain_pem,
            trusted_root,
            now,
            NetworkParameters,
            "the network parameters",
            InvalidNetworkParametersError,
        )


SignedT = TypeVar("SignedT")


def _verify_by_network_map(
    data: bytes,
    signature: bytes,
    chain_pem: bytes,
    trusted_root: x509.Certificate,
    now: datetime | None,
    kind: type[SignedT],
    what: str,
    error: type[NetworkMapVerificationError],
) -> SignedT:
    """`data` decoded as `kind`, once the network-map certificate's signature over it checks."""
    chain = _read_chain(chain_pem, CertRole.NETWORK_MAP, what, error)
    _check_chain(chain, trusted_root, now, what, error)
    _check_signature(chain, data, signature, what, error)
    try:
        return decode(data, kind)
    except DecodingError as exc:
        raise error(f"{what} signed are not a canonical {kind.__name__} encoding: {exc}") from exc
