"""Signed NodeInfos, maps and parameters: what verifies, and every way it must not."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dlt.crypto import Ed25519PrivateKey, SecureHash
from dlt.encoding import decode, encode
from dlt.identity import CertRole, Party, cert_role, certs_from_pem
from dlt.identity.certificates import role_extension
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.node.network_map_types import (
    InvalidNetworkMapError,
    InvalidNetworkParametersError,
    InvalidNodeInfoError,
    NetworkMap,
    SignedNetworkMap,
    SignedNetworkParameters,
    SignedNodeInfo,
    chain_to_pem,
)
from dlt.node.node_info import NodeInfo

from .conftest import ALICE, BOB


def _map_chain(ca):
    return (ca.network_map_cert, ca.root_cert)


def test_signed_node_info_verifies_and_round_trips_byte_exact(dev_ca, alice, sign_info) -> None:
    signed = sign_info(alice, addresses=("amqps://localhost:5671/alice",), serial=3)
    assert decode(encode(signed), SignedNodeInfo) == signed
    info = signed.verify(dev_ca.root_cert)
    assert info.name == ALICE
    assert info.serial == 3
    assert signed.hash == SecureHash.sha256(encode(info))


def test_identity_chain_stops_at_the_doorman(alice, sign_info) -> None:
    chain = certs_from_pem(sign_info(alice).identity_chain_pem)
    assert [cert_role(cert) for cert in chain] == [
        CertRole.LEGAL_IDENTITY,
        CertRole.NODE_CA,
        CertRole.DOORMAN_CA,
    ]


def test_node_info_signed_by_another_key_is_refused(dev_ca, alice) -> None:
    info = NodeInfo(legal_identity=alice.party)
    data = encode(info)
    forged = SignedNodeInfo(
        node_info_bytes=data,
        signature=Ed25519PrivateKey.generate().sign(data),
        identity_chain_pem=chain_to_pem(alice.legal_identity_chain[:-1]),
    )
    with pytest.raises(InvalidNodeInfoError, match=r"signature on the NodeInfo of .*Alice"):
        forged.verify(dev_ca.root_cert)


def test_node_info_claiming_another_key_than_its_certificate_is_refused(dev_ca, alice) -> None:
    impostor = Ed25519PrivateKey.generate()
    info = NodeInfo(
        legal_identity=alice.party.model_copy(update={"owning_key": impostor.public_key})
    )
    data = encode(info)
    signed = SignedNodeInfo(
        node_info_bytes=data,
        signature=impostor.sign(data),
        identity_chain_pem=chain_to_pem(alice.legal_identity_chain),
    )
    with pytest.raises(InvalidNodeInfoError, match="not the one in its legal identity certificate"):
        signed.verify(dev_ca.root_cert)


def test_node_info_for_another_name_than_its_certificate_is_refused(dev_ca, alice) -> None:
    info = NodeInfo(legal_identity=alice.party.model_copy(update={"name": BOB}))
    data = encode(info)
    signed = SignedNodeInfo(
        node_info_bytes=data,
        signature=alice.legal_identity_key.sign(data),
        identity_chain_pem=chain_to_pem(alice.legal_identity_chain),
    )
    with pytest.raises(InvalidNodeInfoError, match="certificate is for O=Alice Solar"):
        signed.verify(dev_ca.root_cert)


def test_node_info_from_another_network_is_refused(dev_ca, other_ca, sign_info) -> None:
    stranger = other_ca.enrol_node(ALICE)
    signed = SignedNodeInfo.sign(
        NodeInfo(legal_identity=stranger.party),
        stranger.legal_identity_key,
        stranger.legal_identity_chain,
    )
    assert signed.verify(other_ca.root_cert).name == ALICE
    with pytest.raises(InvalidNodeInfoError, match="does not lead to this network's root"):
        signed.verify(dev_ca.root_cert)


def test_node_info_signed_with_a_tls_certificate_is_refused(dev_ca, alice) -> None:
    info = NodeInfo(legal_identity=alice.party)
    data = encode(info)
    signed = SignedNodeInfo(
        node_info_bytes=data,
        signature=alice.tls_key.sign(data),
        identity_chain_pem=chain_to_pem(alice.tls_chain),
    )
    with pytest.raises(InvalidNodeInfoError, match="signed with a TLS certificate"):
        signed.verify(dev_ca.root_cert)


def test_tampered_node_info_is_refused(dev_ca, alice, sign_info) -> None:
    signed = sign_info(alice, addresses=("amqps://a",))
    tampered_info = NodeInfo(legal_identity=alice.party, addresses=("amqps://evil",))
    tampered = signed.model_copy(update={"node_info_bytes": encode(tampered_info)})
    with pytest.raises(InvalidNodeInfoError, match="does not verify"):
        tampered.verify(dev_ca.root_cert)


def test_signing_with_a_key_the_node_info_does_not_name_fails_early(alice, bob) -> None:
    with pytest.raises(InvalidNodeInfoError, match="not the legal identity key"):
        SignedNodeInfo.sign(
            NodeInfo(legal_identity=alice.party), bob.legal_identity_key, alice.legal_identity_chain
        )


def test_signed_network_map_verifies_and_tampering_fails(dev_ca) -> None:
    network_map = NetworkMap(
        node_info_hashes=(SecureHash.sha256(b"a"),), parameters_hash=SecureHash.sha256(b"p")
    )
    signed = SignedNetworkMap.sign(network_map, dev_ca.network_map_key, _map_chain(dev_ca))
    assert signed.verify(dev_ca.root_cert) == network_map
    shorter = NetworkMap(node_info_hashes=(), parameters_hash=network_map.parameters_hash)
    tampered = signed.model_copy(update={"network_map_bytes": encode(shorter)})
    with pytest.raises(InvalidNetworkMapError, match="does not verify"):
        tampered.verify(dev_ca.root_cert)


def test_network_map_signed_by_the_doorman_is_refused(dev_ca) -> None:
    network_map = NetworkMap(node_info_hashes=(), parameters_hash=SecureHash.sha256(b"p"))
    signed = SignedNetworkMap.sign(
        network_map, dev_ca.doorman_key, (dev_ca.doorman_cert, dev_ca.root_cert)
    )
    with pytest.raises(InvalidNetworkMapError, match="only a NETWORK_MAP certificate"):
        signed.verify(dev_ca.root_cert)


def test_network_map_of_another_network_is_refused(dev_ca, other_ca) -> None:
    network_map = NetworkMap(node_info_hashes=(), parameters_hash=SecureHash.sha256(b"p"))
    signed = SignedNetworkMap.sign(network_map, other_ca.network_map_key, _map_chain(other_ca))
    with pytest.raises(InvalidNetworkMapError, match="root"):
        signed.verify(dev_ca.root_cert)


def test_signed_network_parameters_verify_and_hash_like_the_parameters(dev_ca, alice) -> None:
    parameters = NetworkParameters(notaries=(NotaryInfo(identity=alice.party, validating=True),))
    signed = SignedNetworkParameters.sign(parameters, dev_ca.network_map_key, _map_chain(dev_ca))
    assert signed.verify(dev_ca.root_cert) == parameters
    assert signed.hash == parameters.hash
    other = NetworkParameters(epoch=2)
    tampered = signed.model_copy(update={"parameters_bytes": encode(other)})
    with pytest.raises(InvalidNetworkParametersError, match="does not verify"):
        tampered.verify(dev_ca.root_cert)


def test_a_node_info_for_another_name_minted_under_a_node_ca_is_refused(dev_ca, alice) -> None:
    """Alice's node CA certifies a legal identity for Bob's name and signs a NodeInfo as Bob."""
    key = Ed25519PrivateKey.generate()
    forged = (
        x509.CertificateBuilder()
        .subject_name(BOB.to_x509())
        .issuer_name(alice.node_ca_cert.subject)
        .public_key(key.public_key.to_cryptography())
        .serial_number(x509.random_serial_number())
        .not_valid_before(alice.node_ca_cert.not_valid_before_utc)
        .not_valid_after(alice.node_ca_cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(role_extension(CertRole.LEGAL_IDENTITY), critical=False)
        .sign(alice.node_ca_key.to_cryptography(), hashes.SHA256())
    )
    info = NodeInfo(legal_identity=Party(name=BOB, owning_key=key.public_key))
    signed = SignedNodeInfo.sign(info, key, (forged, *alice.node_ca_chain))
    with pytest.raises(InvalidNodeInfoError, match=r"Bob Wind.*may not certify"):
        signed.verify(dev_ca.root_cert)
