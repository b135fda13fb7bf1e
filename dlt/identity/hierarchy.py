"""A whole development network's certificate authorities in memory, for tests and bootstrapping.

Real networks keep the root key offline and run the doorman as a service; here one object holds
every key so a test or the local-network bootstrapper can enrol nodes in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from dlt.crypto import EcdsaP256PrivateKey, Ed25519PrivateKey
from dlt.identity.certificates import (
    CertRole,
    certificate_name,
    certificate_public_key,
    create_self_signed_root,
    issue_certificate,
)
from dlt.identity.party import Party
from dlt.identity.x500 import X500Name

DEV_VALIDITY = timedelta(days=3650)
DEV_ROOT_NAME = X500Name("DLT Energy Dev", "London", "GB", common_name="Root CA")
DEV_DOORMAN_NAME = X500Name("DLT Energy Dev", "London", "GB", common_name="Doorman CA")
DEV_NETWORK_MAP_NAME = X500Name("DLT Energy Dev", "London", "GB", common_name="Network Map")


@dataclass(frozen=True)
class NodeCertificates:
    """A node's certificates and keys; every chain is leaf first and ends with the root."""

    node_ca_cert: x509.Certificate
    node_ca_key: EcdsaP256PrivateKey
    tls_cert: x509.Certificate
    tls_key: EcdsaP256PrivateKey
    legal_identity_cert: x509.Certificate
    legal_identity_key: Ed25519PrivateKey
    doorman_cert: x509.Certificate
    root_cert: x509.Certificate

    @property
    def name(self) -> X500Name:
        return certificate_name(self.legal_identity_cert)

    @property
    def party(self) -> Party:
        """The node's well-known identity, as it appears on the ledger."""
        return Party(name=self.name, owning_key=certificate_public_key(self.legal_identity_cert))

    @property
    def node_ca_chain(self) -> tuple[x509.Certificate, ...]:
        return (self.node_ca_cert, self.doorman_cert, self.root_cert)

    @property
    def tls_chain(self) -> tuple[x509.Certificate, ...]:
        return (self.tls_cert, *self.node_ca_chain)

    @property
    def legal_identity_chain(self) -> tuple[x509.Certificate, ...]:
        return (self.legal_identity_cert, *self.node_ca_chain)

    def confidential_identity_chain(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The chain that proves a confidential identity belongs to this node."""
        return (cert, *self.legal_identity_chain)

    def issue_confidential_identity(
        self, *, validity: timedelta = DEV_VALIDITY, now: datetime | None = None
    ) -> tuple[x509.Certificate, Ed25519PrivateKey]:
        """A fresh anonymous key, certified by the legal identity so the node can prove it."""
        key = Ed25519PrivateKey.generate()
        cert = issue_certificate(
            issuer_cert=self.legal_identity_cert,
            issuer_key=self.legal_identity_key,
            subject=self.name,
            subject_key=key.public_key,
            role=CertRole.CONFIDENTIAL_IDENTITY,
            validity=validity,
            now=now,
        )
        return cert, key


@dataclass(frozen=True)
class DevCertificateAuthority:
    """Root, doorman and network-map certificates and keys of a development network."""

    root_cert: x509.Certificate
    root_key: EcdsaP256PrivateKey
    doorman_cert: x509.Certificate
    doorman_key: EcdsaP256PrivateKey
    network_map_cert: x509.Certificate
    network_map_key: EcdsaP256PrivateKey

    @classmethod
    def create(
        cls,
        root_name: X500Name = DEV_ROOT_NAME,
        doorman_name: X500Name = DEV_DOORMAN_NAME,
        network_map_name: X500Name = DEV_NETWORK_MAP_NAME,
        *,
        validity: timedelta = DEV_VALIDITY,
        now: datetime | None = None,
    ) -> DevCertificateAuthority:
        root_key = EcdsaP256PrivateKey.generate()
        root_cert = create_self_signed_root(
            name=root_name, key=root_key, validity=validity, now=now
        )
        doorman_key = EcdsaP256PrivateKey.generate()
        network_map_key = EcdsaP256PrivateKey.generate()
        return cls(
            root_cert=root_cert,
            root_key=root_key,
            doorman_cert=issue_certificate(
                issuer_cert=root_cert,
                issuer_key=root_key,
                subject=doorman_name,
                subject_key=doorman_key.public_key,
                role=CertRole.DOORMAN_CA,
                validity=validity,
                now=now,
            ),
            doorman_key=doorman_key,
            network_map_cert=issue_certificate(
                issuer_cert=root_cert,
                issuer_key=root_key,
                subject=network_map_name,
                subject_key=network_map_key.public_key,
                role=CertRole.NETWORK_MAP,
                validity=validity,
                now=now,
            ),
            network_map_key=network_map_key,
        )

    def enrol_node(
        self,
        name: X500Name,
        *,
        tls_subject_alt_names: Sequence[x509.GeneralName] | None = None,
        validity: timedelta = DEV_VALIDITY,
        now: datetime | None = None,
    ) -> NodeCertificates:
        """Admit a node: a node CA from the doorman, bound to `name` by name constraints, then
        its TLS and legal identity certificates, both naming exactly `name`."""
        node_ca_key = EcdsaP256PrivateKey.generate()
        node_ca_cert = issue_certificate(
            issuer_cert=self.doorman_cert,
            issuer_key=self.doorman_key,
            subject=name,
            subject_key=node_ca_key.public_key,
            role=CertRole.NODE_CA,
            validity=validity,
            now=now,
        )
        return issue_node_identities(
            node_ca_cert=node_ca_cert,
            node_ca_key=node_ca_key,
            doorman_cert=self.doorman_cert,
            root_cert=self.root_cert,
            tls_subject_alt_names=tls_subject_alt_names,
            validity=validity,
            now=now,
        )

    def enrol_meter(
        self,
        household: X500Name,
        *,
        validity: timedelta = DEV_VALIDITY,
        now: datetime | None = None,
    ) -> tuple[x509.Certificate, Ed25519PrivateKey]:
        """Admit `household`'s meter: a METER certificate from the doorman for a fresh key."""
        key = Ed25519PrivateKey.generate()
        cert = issue_certificate(
            issuer_cert=self.doorman_cert,
            issuer_key=self.doorman_key,
            subject=meter_name(household),
            subject_key=key.public_key,
            role=CertRole.METER,
            validity=validity,
            now=now,
        )
        return cert, key


def meter_name(household: X500Name) -> X500Name:
    """The name a household's meter is certified under: the household's, with CN=Meter, so
    a contract can tell whose readings a meter signs from its certificate alone."""
    return X500Name(
        household.organisation,
        household.locality,
        household.country,
        organisation_unit=household.organisation_unit,
        state=household.state,
        common_name="Meter",
    )


def issue_node_identities(
    *,
    node_ca_cert: x509.Certificate,
    node_ca_key: EcdsaP256PrivateKey,
    doorman_cert: x509.Certificate,
    root_cert: x509.Certificate,
    tls_subject_alt_names: Sequence[x509.GeneralName] | None = None,
    validity: timedelta = DEV_VALIDITY,
    now: datetime | None = None,
) -> NodeCertificates:
    """A node's TLS (P-256) and legal identity (Ed25519) certificates under its node CA.

    The doorman signs only the node CA; a node issues these two itself, with fresh keys, and
    both name the node exactly, as its node CA's name constraints require: peers and the
    broker identify it by that name."""
    name = certificate_name(node_ca_cert)
    tls_key = EcdsaP256PrivateKey.generate()
    tls_cert = issue_certificate(
        issuer_cert=node_ca_cert,
        issuer_key=node_ca_key,
        subject=name,
        subject_key=tls_key.public_key,
        role=CertRole.TLS,
        validity=validity,
        now=now,
        subject_alt_names=tls_subject_alt_names,
    )
    identity_key = Ed25519PrivateKey.generate()
    identity_cert = issue_certificate(
        issuer_cert=node_ca_cert,
        issuer_key=node_ca_key,
        subject=name,
        subject_key=identity_key.public_key,
        role=CertRole.LEGAL_IDENTITY,
        validity=validity,
        now=now,
    )
    return NodeCertificates(
        node_ca_cert=node_ca_cert,
        node_ca_key=node_ca_key,
        tls_cert=tls_cert,
        tls_key=tls_key,
        legal_identity_cert=identity_cert,
        legal_identity_key=identity_key,
        doorman_cert=doorman_cert,
        root_cert=root_cert,
    )
