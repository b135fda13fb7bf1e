"""Faulty replicas in a local network: how `--byzantine` is read, checked and written."""

from __future__ import annotations

import json

import pytest

from deploy.localnet import (
    BYZANTINE_SERVICE,
    Localnet,
    LocalnetError,
    Shape,
    parse_byzantine,
)
from dlt.node.config import NodeConfig

REPLICA_3 = "notary-service-replica-3-zurich-ch"
REPLICA_4 = "notary-service-replica-4-zurich-ch"


def _notary_config(net: Localnet, slug: str) -> dict:
    return json.loads((net.home / "nodes" / slug / "config.json").read_text())["notary"]


@pytest.fixture
def cluster(tmp_path) -> Localnet:
    net = Localnet(tmp_path / "net")
    net.create(Shape(replicas=4, producers=1, consumers=1), print)
    return net


def test_a_list_of_replicas_and_modes_is_read_with_delays_keeping_their_seconds():
    assert parse_byzantine(f"{REPLICA_3}=delay=2.5,{REPLICA_4}=equivocate") == {
        REPLICA_3: "delay=2.5",
        REPLICA_4: "equivocate",
    }


def test_none_means_every_replica_honest():
    assert parse_byzantine("none") == {}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (f"{REPLICA_4}=lying", "unknown Byzantine mode"),
        (f"{REPLICA_4}=delay", "delay needs seconds"),
        (REPLICA_4, "REPLICA=MODE"),
        (f"{REPLICA_4}=crash,{REPLICA_4}=discard", "twice"),
    ],
)
def test_a_malformed_fault_list_is_refused_in_one_line_naming_the_problem(text, complaint):
    with pytest.raises(LocalnetError, match=complaint) as refused:
        parse_byzantine(text)
    assert "\n" not in str(refused.value)


def test_a_faulty_replica_config_names_the_byzantine_service_and_its_mode(cluster):
    cluster.configure_byzantine({REPLICA_4: "equivocate"}, False, print)

    notary = _notary_config(cluster, REPLICA_4)
    assert notary["service_module"] == BYZANTINE_SERVICE
    assert notary["behaviour"] == "equivocate"
    config = NodeConfig.load(cluster.home / "nodes" / REPLICA_4 / "config.json")
    assert config.notary is not None and config.notary.behaviour == "equivocate"
    assert "behaviour" not in _notary_config(cluster, REPLICA_3)
    (member,) = [m for m in cluster.members if m.slug == REPLICA_4]
    assert member.byzantine == "equivocate"


def test_more_than_f_faulty_replicas_in_a_cluster_are_refused_without_allow_unsafe(cluster):
    two = {REPLICA_3: "equivocate", REPLICA_4: "equivocate"}

    with pytest.raises(LocalnetError, match="tolerate 1; use --allow-unsafe"):
        cluster.configure_byzantine(two, False, print)
    assert all(m.byzantine is None for m in cluster.members)

    cluster.configure_byzantine(two, True, print)
    assert {m.slug for m in cluster.members if m.byzantine} == {REPLICA_3, REPLICA_4}


def test_a_replica_left_out_of_a_new_fault_list_becomes_honest_again(cluster):
    cluster.configure_byzantine({REPLICA_4: "discard"}, False, print)

    cluster.configure_byzantine({REPLICA_3: "crash"}, False, print)

    assert "behaviour" not in _notary_config(cluster, REPLICA_4)
    assert "behaviour" not in _notary_config(cluster, REPLICA_3)
    crashed = [m.slug for m in cluster.members if m.crashed]
    assert crashed == [REPLICA_3]


def test_a_fault_on_a_node_that_is_not_a_replica_is_refused(cluster):
    with pytest.raises(LocalnetError, match="no notary replica 'consumer-1'"):
        cluster.configure_byzantine({"consumer-1": "discard"}, False, print)


def test_a_single_notary_tolerates_no_fault_before_anything_is_built(tmp_path):
    net = Localnet(tmp_path / "net")

    with pytest.raises(LocalnetError, match="tolerate 0"):
        net.up(Shape(byzantine={"notary-service-zurich-ch": "discard"}), print)
    assert not net.exists
