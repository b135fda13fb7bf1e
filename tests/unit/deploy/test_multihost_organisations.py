"""The multi-host network's replicas join like its nodes: the commands each host runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from deploy.multihost.organisations import (
    ORGANISATIONS,
    SERVICE,
    Joining,
    node_init_argv,
    notary_cluster_argv,
)
from dlt.cli.main import build_parser as dlt_parser
from dlt.identity import X500Name
from networkmap.__main__ import build_parser as networkmap_parser


def _joining(replica_of: str | None = None) -> Joining:
    return Joining(
        name=ORGANISATIONS[0].replica_name if replica_of else ORGANISATIONS[0].name,
        directory=Path("producer/nodes/x"),
        broker_url="amqps://10.213.0.2:5671/%2F",
        database_url="postgresql+psycopg://dlt:pw@127.0.0.1:5432/replica",
        rpc_address="10.213.0.2:10004",
        replica_of=replica_of,
    )


def _init(argv: list[str]) -> argparse.Namespace:
    return dlt_parser().parse_args(argv)


def test_each_organisation_runs_one_replica_of_its_own_name() -> None:
    names = [X500Name.parse(org.replica_name) for org in ORGANISATIONS]

    assert [org.replica for org in ORGANISATIONS] == [1, 2, 3, 4]
    assert len(set(names)) == len({org.replica_slug for org in ORGANISATIONS}) == 4
    assert X500Name.parse(SERVICE) not in names
    assert not {org.x500 for org in ORGANISATIONS} & set(names)


def test_a_replica_is_initialised_as_a_replica_of_the_service_through_the_doorman() -> None:
    argv = node_init_argv(
        _joining(SERVICE),
        doorman_url="https://10.213.0.1:10000",
        root=Path("network-root.pem"),
        broker_declares_inbox=False,
    )

    args = _init(argv)

    assert args.notary_replica_of == X500Name.parse(SERVICE)
    assert args.doorman == "https://10.213.0.1:10000"
    assert args.network_root == Path("network-root.pem")
    assert args.rpc_address == "10.213.0.2:10004"


def test_an_organisations_node_is_not_a_replica() -> None:
    argv = node_init_argv(
        _joining(), doorman_url="https://o:1", root=Path("r.pem"), broker_declares_inbox=True
    )

    args = _init(argv)

    assert args.notary_replica_of is None and args.broker_declares_inbox


def test_the_operator_forms_the_cluster_of_every_organisations_replica() -> None:
    args = networkmap_parser().parse_args([*notary_cluster_argv(), "--home", "operator"])

    assert args.command == "notary-cluster" and args.service == X500Name.parse(SERVICE)
    assert args.replicas == [X500Name.parse(org.replica_name) for org in ORGANISATIONS]
    assert not args.validating
