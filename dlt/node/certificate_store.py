"""A node's certificates and keys on disk, in `<node directory>/certificates/`.

    node-ca.pem/.key     node CA chain (node CA, doorman CA, root) and its P-256 key
    tls.pem/.key         TLS chain (TLS, node CA, doorman, root), subject = the legal name
    identity.pem/.key    legal identity chain and its Ed25519 key

Keys are PKCS#8 PEM, created 0600; the folder is 0700. The bootstrapper writes this layout for
a network built offline, and a node writes it after registering with the doorman.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey, PrivateKey, load_private_key
from dlt.identity import NodeCertificates, cert_to_pem, certs_from_pem

CERTIFICATES = "certificates"


class CertificateStoreError(Exception):
    """The node's certificates are missing or do not fit together."""


def certificates_dir(node_directory: Path) -> Path:
    return node_directory / CERTIFICATES


def has_certificates(node_directory: Path) -> bool:
    return (certificates_dir(node_directory) / "identity.pem").exists()


def write_private_key(path: Path, key: PrivateKey, password: bytes | None = None) -> None:
    """Write a key readable by its owner only; created 0600 so it is never briefly exposed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.to_pem(password))


def chain_pem(chain: tuple[x509.Certificate, ...] | list[x509.Certificate]) -> bytes:
    return b"".join(cert_to_pem(cert) for cert in chain)


def save_node_certificates(node_directory: Path, certs: NodeCertificates) -> None:
    folder = certificates_dir(node_directory)
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    (folder / "node-ca.pem").write_bytes(chain_pem(certs.node_ca_chain))
    (folder / "tls.pem").write_bytes(chain_pem(certs.tls_chain))
    (folder / "identity.pem").write_bytes(chain_pem(certs.legal_identity_chain))
    write_private_key(folder / "node-ca.key", certs.node_ca_key)
    write_private_key(folder / "tls.key", certs.tls_key)
    write_private_key(folder / "identity.key", certs.legal_identity_key)


def load_node_certificates(node_directory: Path) -> NodeCertificates:
    folder = certificates_dir(node_directory)
    try:
        node_ca_chain = certs_from_pem((folder / "node-ca.pem").read_bytes())
        tls_chain = certs_from_pem((folder / "tls.pem").read_bytes())
        identity_chain = certs_from_pem((folder / "identity.pem").read_bytes())
        keys = {
            name: load_private_key((folder / f"{name}.key").read_bytes())
            for name in ("node-ca", "tls", "identity")
        }
    except OSError as exc:
        raise CertificateStoreError(
            f"cannot read the node's certificates in {folder}: {exc.strerror or exc}; "
            "bootstrap the network or let the node register with the doorman"
        ) from exc
    if len(node_ca_chain) != 3 or len(tls_chain) != 4 or len(identity_chain) != 4:
        raise CertificateStoreError(f"the certificate chains in {folder} are incomplete")
    node_ca_key, tls_key, identity_key = keys["node-ca"], keys["tls"], keys["identity"]
    if not isinstance(node_ca_key, EcdsaP256PrivateKey) or not isinstance(
        tls_key, EcdsaP256PrivateKey
    ):
        raise CertificateStoreError(f"the node CA and TLS keys in {folder} must be P-256")
    if not isinstance(identity_key, Ed25519PrivateKey):
        raise CertificateStoreError(f"the legal identity key in {folder} must be Ed25519")
    certs = NodeCertificates(
        node_ca_cert=node_ca_chain[0],
        node_ca_key=node_ca_key,
        tls_cert=tls_chain[0],
        tls_key=tls_key,
        legal_identity_cert=identity_chain[0],
        legal_identity_key=identity_key,
        doorman_cert=node_ca_chain[1],
        root_cert=node_ca_chain[2],
    )
    if certs.party.owning_key != identity_key.public_key:
        raise CertificateStoreError(f"identity.key in {folder} does not match identity.pem")
    return certs
