"""The RPC server's TLS material, which is not optional: passwords travel in the metadata."""

from __future__ import annotations

from dataclasses import dataclass

from dlt.identity.certificates import cert_to_pem
from dlt.identity.hierarchy import NodeCertificates


@dataclass(frozen=True)
class RpcTls:
    """The server's TLS material: a PEM certificate chain (leaf first) and its PEM key.

    With `client_ca_pem`, clients must present a certificate issued under it (mutual TLS).
    """

    cert_chain_pem: bytes
    key_pem: bytes
    client_ca_pem: bytes | None = None

    @classmethod
    def from_node_certificates(
        cls, certs: NodeCertificates, client_ca_pem: bytes | None = None
    ) -> RpcTls:
        """Serve with the node's TLS certificate, the one its peers already trust, chained up
        to the network root so a client needs only the root certificate."""
        chain = b"".join(cert_to_pem(cert) for cert in certs.tls_chain)
        return cls(chain, certs.tls_key.to_pem(), client_ca_pem)
