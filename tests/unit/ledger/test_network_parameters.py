"""Network parameters: a notary cluster's service key must be exactly the composite of its
replicas' keys with threshold n - f, wherever parameters are built or loaded. A looser key
would let fewer than a quorum of replicas, or keys outside the cluster, notarise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dlt.crypto import CompositeKey
from dlt.encoding import DecodingError, decode, encode
from dlt.identity import Party, X500Name
from dlt.ledger import NetworkParameters, NotaryInfo
from dlt.testing import test_identity

REPLICAS = [test_identity(f"O=Param Replica {n}, L=Bern, C=CH") for n in range(4)]
OUTSIDER = test_identity("O=Outsider, L=Bern, C=CH")
NAME = X500Name.parse("O=Param Notary, L=Bern, C=CH")


def service(keys, threshold) -> Party:
    return Party(name=NAME, owning_key=CompositeKey.build(keys, threshold=threshold))


def test_a_cluster_whose_key_is_its_replicas_composite_at_n_minus_f_is_accepted():
    info = NotaryInfo(
        identity=service([r.public_key for r in REPLICAS], 3),
        replicas=tuple(r.party for r in REPLICAS),
    )

    assert (info.quorum, info.fault_tolerance) == (3, 1)


@pytest.mark.parametrize(
    ("keys", "threshold"),
    [
        ([r.public_key for r in REPLICAS], 2),
        ([*(r.public_key for r in REPLICAS), OUTSIDER.public_key], 3),
        ([r.public_key for r in REPLICAS[:3]], 3),
    ],
    ids=["threshold below n - f", "a key outside the cluster", "a replica left out"],
)
def test_a_cluster_whose_key_is_anything_else_is_refused(keys, threshold):
    with pytest.raises(ValidationError, match="is not the composite of its 4 replicas' keys"):
        NotaryInfo(identity=service(keys, threshold), replicas=tuple(r.party for r in REPLICAS))


def test_a_replica_listed_twice_is_refused():
    replicas = (*(r.party for r in REPLICAS), REPLICAS[0].party)

    with pytest.raises(ValidationError, match="lists a replica more than once"):
        NotaryInfo(identity=service([r.public_key for r in REPLICAS], 4), replicas=replicas)


def test_parameters_with_an_inconsistent_cluster_do_not_load():
    loose = NotaryInfo.model_construct(
        identity=service([r.public_key for r in REPLICAS], 1),
        validating=False,
        replicas=tuple(r.party for r in REPLICAS),
    )
    forged = NetworkParameters.model_construct(
        **{**dict(NetworkParameters()), "notaries": (loose,)}
    )

    with pytest.raises(DecodingError, match="not the composite"):
        decode(encode(forged), NetworkParameters)


def test_trusted_signers_are_named_by_purpose():
    parameters = NetworkParameters().with_trusted_signer("energy.market-rules", OUTSIDER.public_key)

    assert parameters.signers_for("energy.market-rules") == (OUTSIDER.public_key,)
    assert parameters.signers_for("anything else") == ()
    assert decode(encode(parameters), NetworkParameters) == parameters
