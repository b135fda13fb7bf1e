"""The network map service: who may publish, which NodeInfo wins, what the signed map says."""

from __future__ import annotations

import pytest

from dlt.crypto import SecureHash
from dlt.encoding import encode
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.network_map_types import SignedNetworkParameters, SignedNodeInfo
from dlt.node.node_info import NodeInfo
from networkmap.network_map import (
    MalformedSubmissionError,
    NetworkParametersRefusedError,
    NodeInfoRefusedError,
    NoNetworkParametersError,
    NotFoundError,
    StaleNodeInfoError,
)

from .conftest import ALICE


def test_published_node_info_is_listed_in_the_signed_map(
    make_service, alice, bob, sign_info, dev_ca
) -> None:
    service = make_service()
    published = {service.publish(encode(sign_info(node))) for node in (alice, bob)}
    network_map = service.signed_network_map().verify(dev_ca.root_cert)
    assert set(network_map.node_info_hashes) == published
    assert list(network_map.node_info_hashes) == sorted(published)
    assert network_map.parameters_hash == NetworkParameters().hash
    for node_info_hash in published:
        assert service.signed_node_info(node_info_hash).hash == node_info_hash


def test_newest_serial_wins_and_older_stays_fetchable(
    make_service, alice, sign_info, dev_ca
) -> None:
    service = make_service()
    first = service.publish(encode(sign_info(alice, serial=1)))
    second = service.publish(encode(sign_info(alice, serial=2, addresses=("amqps://new",))))
    assert service.network_map().node_info_hashes == (second,)
    assert service.signed_node_info(first).verify(dev_ca.root_cert).serial == 1


def test_older_or_equal_serials_are_refused(make_service, alice, sign_info) -> None:
    service = make_service()
    service.publish(encode(sign_info(alice, serial=5)))
    with pytest.raises(StaleNodeInfoError, match="already published serial 5"):
        service.publish(encode(sign_info(alice, serial=4)))
    with pytest.raises(StaleNodeInfoError, match="higher serial"):
        service.publish(encode(sign_info(alice, serial=5, addresses=("amqps://other",))))


def test_republishing_the_same_node_info_is_harmless(make_service, alice, sign_info) -> None:
    service = make_service()
    data = encode(sign_info(alice))
    assert service.publish(data) == service.publish(data)


def test_node_info_signed_by_the_wrong_key_is_refused(make_service, alice, bob) -> None:
    data = encode(NodeInfo(legal_identity=alice.party))
    forged = SignedNodeInfo(
        node_info_bytes=data,
        signature=bob.legal_identity_key.sign(data),
        identity_chain_pem=SignedNodeInfo.sign(
            NodeInfo(legal_identity=alice.party),
            alice.legal_identity_key,
            alice.legal_identity_chain,
        ).identity_chain_pem,
    )
    with pytest.raises(NodeInfoRefusedError, match="does not verify"):
        make_service().publish(encode(forged))


def test_node_info_from_another_root_is_refused(make_service, other_ca, sign_info) -> None:
    with pytest.raises(NodeInfoRefusedError, match="this network's root"):
        make_service().publish(encode(sign_info(other_ca.enrol_node(ALICE))))


def test_node_admitted_by_another_doorman_is_refused(
    make_service, second_doorman_ca, sign_info, dev_ca
) -> None:
    node = second_doorman_ca.enrol_node(ALICE)
    signed = sign_info(node)
    signed.verify(dev_ca.root_cert)
    with pytest.raises(NodeInfoRefusedError, match="not issued by this network's doorman"):
        make_service().publish(encode(signed))


def test_garbage_is_refused_as_malformed(make_service) -> None:
    with pytest.raises(MalformedSubmissionError, match="not an encoded SignedNodeInfo"):
        make_service().publish(b"\x00garbage")


def test_platform_below_the_network_minimum_is_refused(make_service, alice, sign_info) -> None:
    service = make_service(NetworkParameters(minimum_platform_version=2))
    with pytest.raises(NodeInfoRefusedError, match="below the network's minimum 2"):
        service.publish(encode(sign_info(alice, platform_version=1)))


def test_unknown_hashes_are_not_found(make_service) -> None:
    service = make_service()
    with pytest.raises(NotFoundError):
        service.signed_node_info(SecureHash.sha256(b"nobody"))
    with pytest.raises(NotFoundError):
        service.signed_network_parameters(SecureHash.sha256(b"nothing"))


def test_no_map_without_parameters(make_service) -> None:
    with pytest.raises(NoNetworkParametersError, match="no network parameters"):
        make_service(with_parameters=False).signed_network_map()


def test_parameters_epoch_only_moves_forwards(make_service, dev_ca) -> None:
    service = make_service(NetworkParameters(epoch=2))
    with pytest.raises(NetworkParametersRefusedError, match="epoch above the current 2"):
        service.sign_network_parameters(NetworkParameters(epoch=1, max_message_size=1))
    newer = service.sign_network_parameters(NetworkParameters(epoch=3))
    assert service.network_map().parameters_hash == newer.hash
    old = service.signed_network_parameters(NetworkParameters(epoch=2).hash)
    assert old.verify(dev_ca.root_cert).epoch == 2


def test_parameters_signed_by_another_network_are_refused(make_service, other_ca) -> None:
    signed = SignedNetworkParameters.sign(
        NetworkParameters(epoch=9),
        other_ca.network_map_key,
        (other_ca.network_map_cert, other_ca.root_cert),
    )
    with pytest.raises(NetworkParametersRefusedError, match="root"):
        make_service().set_network_parameters(signed)


def test_signed_map_is_reused_until_the_map_changes(make_service, alice, bob, sign_info) -> None:
    service = make_service()
    service.publish(encode(sign_info(alice)))
    first = service.signed_network_map()
    assert service.signed_network_map() is first
    service.publish(encode(sign_info(bob)))
    assert service.signed_network_map() is not first


def test_the_map_survives_reopening_the_database(make_service, alice, sign_info, dev_ca) -> None:
    published = make_service().publish(encode(sign_info(alice)))
    reopened = make_service(with_parameters=False)
    assert reopened.signed_network_map().verify(dev_ca.root_cert).node_info_hashes == (published,)


def test_a_trusted_nodes_key_enters_the_parameters_of_a_new_epoch_when_it_publishes(
    make_service, alice, bob, sign_info, dev_ca
) -> None:
    service = make_service(trusted_names={"energy.market-rules": [alice.name]})
    service.publish(encode(sign_info(bob)))
    assert service.current_parameters() == NetworkParameters()

    service.publish(encode(sign_info(alice)))

    parameters = service.current_parameters()
    assert parameters is not None and parameters.epoch == 2
    assert parameters.signers_for("energy.market-rules") == (alice.party.owning_key,)
    signed = service.signed_network_parameters(parameters.hash)
    assert signed.verify(dev_ca.root_cert) == parameters
    assert service.network_map().parameters_hash == parameters.hash


def test_republishing_a_trusted_node_does_not_start_another_epoch(
    make_service, alice, sign_info
) -> None:
    service = make_service(trusted_names={"energy.market-rules": [alice.name]})
    service.publish(encode(sign_info(alice, serial=1)))
    service.publish(encode(sign_info(alice, serial=2, addresses=("amqps://moved",))))

    parameters = service.current_parameters()
    assert parameters is not None and parameters.epoch == 2
