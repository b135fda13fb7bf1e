"""What a node presents to a broker over TLS and trusts in it: its certificate chain and key, and
the network's root, as the SSL context every broker connection of the node is made with."""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from dlt.identity import cert_to_pem
from dlt.identity.hierarchy import NodeCertificates
from dlt.messaging.broker_identity import rabbitmq_subject


@dataclass(frozen=True, repr=False)
class TlsMaterial:
    """What a node presents to and trusts in a broker, all PEM: the CA certificates the broker's
    chain must lead to, the node's TLS certificate chain (leaf first), and its private key."""

    ca_pem: bytes
    cert_chain_pem: bytes
    key_pem: bytes

    @classmethod
    def for_node(cls, certificates: NodeCertificates) -> TlsMaterial:
        """A node's TLS certificate chain and key, trusting its network's root CA."""
        return cls(
            ca_pem=cert_to_pem(certificates.root_cert),
            cert_chain_pem=b"".join(cert_to_pem(c) for c in certificates.tls_chain[:-1]),
            key_pem=certificates.tls_key.to_pem(),
        )

    @property
    def user_name(self) -> str:
        """The broker user this material logs in as: the leaf's subject as RabbitMQ renders it."""
        try:
            leaf = x509.load_pem_x509_certificate(self.cert_chain_pem)
        except ValueError as exc:
            raise ValueError(f"the TLS certificate chain is not PEM: {exc}") from exc
        return rabbitmq_subject(leaf.subject)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context: TLS 1.2+, the broker verified against `ca_pem` and its host name,
        and our certificate chain offered for client authentication."""
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cadata=self.ca_pem.decode("ascii")
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # The ssl module loads a certificate chain from files only: write them privately, load,
        # and remove them at once.
        with tempfile.TemporaryDirectory(prefix="dlt-tls-") as directory:
            os.chmod(directory, 0o700)
            cert_path = Path(directory) / "chain.pem"
            key_path = Path(directory) / "key.pem"
            cert_path.write_bytes(self.cert_chain_pem)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as key_file:
                key_file.write(self.key_pem)
            context.load_cert_chain(cert_path, key_path)
        return context

    def __repr__(self) -> str:
        return f"TlsMaterial(user_name={self.user_name!r})"
