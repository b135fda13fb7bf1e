"""A replica that joined through the doorman learns its notary service from the parameters, and
cannot claim a service whose parameters do not list its own legal identity key."""

from __future__ import annotations

import pytest

from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import Party, X500Name
from dlt.ledger.network_parameters import NetworkParameters
from dlt.node.config import NotaryConfig
from dlt.node.notary_replica import NotAReplicaError, service_of
from networkmap.bootstrap import cluster_info

SERVICE = X500Name.parse("O=Notary Service, L=Zurich, C=CH")


def _party(name: str) -> Party:
    return Party(name=X500Name.parse(name), owning_key=EcdsaP256PrivateKey.generate().public_key)


@pytest.fixture(scope="module")
def replicas() -> list[Party]:
    return [_party(f"O=Notary Service Replica {n}, L=Zurich, C=CH") for n in range(1, 5)]


@pytest.fixture(scope="module")
def parameters(replicas: list[Party]) -> NetworkParameters:
    return NetworkParameters(notaries=(cluster_info(SERVICE, True, replicas),), epoch=2)


def test_a_listed_replica_learns_the_service_identity_and_validating_flag(
    parameters, replicas
) -> None:
    notary = service_of(parameters, SERVICE, replicas[2])

    assert notary.identity == parameters.notaries[0].identity
    assert notary.validating


def test_parameters_without_the_service_refuse_the_replica(replicas) -> None:
    with pytest.raises(NotAReplicaError, match="name no notary O=Notary Service"):
        service_of(NetworkParameters(), SERVICE, replicas[0])


def test_a_replica_with_another_key_under_a_listed_name_is_refused(parameters, replicas) -> None:
    """An impostor holding the name (not the key) of a listed replica claims the service."""
    impostor = Party(name=replicas[0].name, owning_key=EcdsaP256PrivateKey.generate().public_key)

    with pytest.raises(NotAReplicaError, match="do not list"):
        service_of(parameters, SERVICE, impostor)


def test_a_node_not_listed_cannot_claim_the_service(parameters) -> None:
    with pytest.raises(NotAReplicaError, match="do not list"):
        service_of(parameters, SERVICE, _party("O=Mallory, L=Leeds, C=GB"))


def test_a_listed_replica_cannot_claim_another_service(parameters, replicas) -> None:
    with pytest.raises(NotAReplicaError, match="name no notary"):
        service_of(parameters, X500Name.parse("O=Other Notary, L=Bern, C=CH"), replicas[0])


def test_the_errors_are_one_line(parameters) -> None:
    with pytest.raises(NotAReplicaError) as raised:
        service_of(parameters, SERVICE, _party("O=Mallory, L=Leeds, C=GB"))

    assert "\n" not in str(raised.value)


def test_a_config_may_not_name_both_the_service_key_and_the_service_to_learn(replicas) -> None:
    with pytest.raises(ValueError, match="not both"):
        NotaryConfig(service=replicas[0], replica_of=SERVICE)
