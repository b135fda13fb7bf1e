"""An organisation joins an existing network with the doorman's URL and the network root only,
and the operator decides: `dlt node init`, `python -m networkmap pending|approve|reject`,
`dlt node enrol`; notary replicas join the same way and the operator forms their cluster
(`python -m networkmap notary-cluster`). Real processes: the doorman serves on loopback without
dev mode."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from deploy.rabbitmq import free_port
from dlt.crypto.composite import CompositeKey
from dlt.identity import X500Name, certs_from_pem
from dlt.node.certificate_store import load_node_certificates
from dlt.node.network_map_client import NetworkMapClient

DLT = str(Path(sys.executable).with_name("dlt"))
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Wind, L=York, C=GB"
SERVICE = "O=Notary Service, L=Zurich, C=CH"
REPLICAS = [f"O=Notary Service Replica {n}, L=Zurich, C=CH" for n in range(1, 5)]


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{result.stderr}{result.stdout}")
    return result


def _networkmap(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(
        sys.executable, "-m", "networkmap", args[0], "--home", str(home), *args[1:], check=check
    )


@pytest.fixture(scope="module")
def doorman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A network with no nodes yet, its doorman serving with operator approval."""
    home = tmp_path_factory.mktemp("operator") / "network"
    _networkmap(home, "bootstrap")
    port = free_port()
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "networkmap",
            "serve",
            "--home",
            str(home),
            "--address",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "listening" not in (home / "serve.log").read_text():
            assert server.poll() is None and time.monotonic() < deadline, (
                home / "serve.log"
            ).read_text()
            time.sleep(0.2)
        yield home, f"https://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _init(
    doorman: tuple[Path, str], directory: Path, name: str, *extra: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    home, url = doorman
    directory.parent.mkdir(parents=True, exist_ok=True)
    root = directory.parent / "network-root.pem"
    root.write_bytes((home / "truststore.pem").read_bytes())  # the one file handed over
    return _run(
        DLT,
        *("node", "init", "--doorman", url, "--network-root", str(root), "--name", name),
        *("--directory", str(directory), "--broker", "amqps://127.0.0.1:5671/%2F"),
        *extra,
        check=check,
    )


def _ticket(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("doorman ticket"))
    return line.split()[2].rstrip(":")


def test_an_approved_organisation_enrols_under_a_node_ca_bound_to_its_name(doorman, tmp_path):
    home, _ = doorman
    directory = tmp_path / "alice" / "nodes" / "alice-solar"

    created = _init(doorman, directory, ALICE)
    ticket = _ticket(created.stdout)
    pending = _networkmap(home, "pending").stdout
    waiting = _run(
        DLT,
        "node",
        "enrol",
        "--config",
        str(directory / "config.json"),
        "--timeout",
        "1",
        check=False,
    )
    _networkmap(home, "approve", ticket)
    _run(DLT, "node", "enrol", "--config", str(directory / "config.json"))

    assert ticket in pending and ALICE in pending
    assert waiting.returncode == 1 and ticket in waiting.stderr
    assert len(waiting.stderr.strip().splitlines()) == 1
    config = json.loads((directory / "config.json").read_text())
    assert config["name"] == ALICE and config["dev_mode"] is False
    assert json.loads((directory / "rpc.json").read_text())["password"]
    node_ca, doorman_ca, root = certs_from_pem(
        (directory / "certificates" / "node-ca.pem").read_bytes()
    )
    assert X500Name.from_x509(node_ca.subject) == X500Name.parse(ALICE)
    assert node_ca.issuer == doorman_ca.subject and doorman_ca.issuer == root.subject
    constraints = node_ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert (
        x509.DirectoryName(X500Name.parse(ALICE).to_x509()) in constraints.value.permitted_subtrees
    )
    assert not (directory / "certificates" / "pending-registration").exists()
    assert ticket not in _networkmap(home, "pending").stdout


def test_a_rejected_organisation_learns_the_operators_reason(doorman, tmp_path):
    home, _ = doorman
    directory = tmp_path / "bob" / "nodes" / "bob-wind"
    ticket = _ticket(_init(doorman, directory, BOB).stdout)

    _networkmap(home, "reject", ticket, "--reason", "unknown organisation: call the operator")
    refused = _run(DLT, "node", "enrol", "--config", str(directory / "config.json"), check=False)

    assert refused.returncode == 1
    assert "unknown organisation: call the operator" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (directory / "certificates" / "identity.pem").exists()


def test_init_refuses_a_directory_that_already_holds_a_node(doorman, tmp_path):
    directory = tmp_path / "carol" / "node"
    _init(doorman, directory, "O=Carol, L=Hull, C=GB")

    again = _init(doorman, directory, "O=Carol, L=Hull, C=GB", check=False)

    assert again.returncode == 1
    assert "already holds a node" in again.stderr


def _join_as_replica(
    doorman: tuple[Path, str], directory: Path, name: str, service: str
) -> subprocess.CompletedProcess[str]:
    """init --notary-replica-of, the operator's approval, enrol (which publishes the NodeInfo)."""
    home, _ = doorman
    ticket = _ticket(_init(doorman, directory, name, "--notary-replica-of", service).stdout)
    _networkmap(home, "approve", ticket)
    return _run(DLT, "node", "enrol", "--config", str(directory / "config.json"))


@pytest.fixture(scope="module")
def cluster(
    doorman: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Path], subprocess.CompletedProcess[str]]:
    """Four replicas joined by name, and the operator's `notary-cluster` over them."""
    home, _ = doorman
    base = tmp_path_factory.mktemp("replicas")
    directories = [base / f"org{n}" / "nodes" / "replica" for n in range(1, 5)]
    for directory, name in zip(directories, REPLICAS, strict=True):
        enrolled = _join_as_replica(doorman, directory, name, SERVICE)
        assert "published its NodeInfo" in enrolled.stdout
    replicas = [arg for name in REPLICAS for arg in ("--replica", name)]
    return directories, _networkmap(home, "notary-cluster", "--service", SERVICE, *replicas)


def test_a_replica_config_names_its_service_but_holds_no_service_key(cluster) -> None:
    directories, _ = cluster

    notary = json.loads((directories[0] / "config.json").read_text())["notary"]

    assert notary == {"replica_of": SERVICE}


def test_the_served_parameters_name_the_cluster_of_the_replicas_own_keys(doorman, cluster):
    home, url = doorman
    directories, formed = cluster
    keys = [load_node_certificates(d).party.owning_key for d in directories]

    with NetworkMapClient(url, (home / "truststore.pem").read_bytes()) as client:
        parameters = client.network_parameters(client.network_map().parameters_hash)

    (notary,) = [n for n in parameters.notaries if n.identity.name == X500Name.parse(SERVICE)]
    assert [replica.owning_key for replica in notary.replicas] == keys
    assert notary.identity.owning_key == CompositeKey.build(keys, threshold=3)
    assert f"epoch {parameters.epoch}" in formed.stdout


def test_a_node_not_in_the_cluster_cannot_run_as_its_replica(doorman, cluster, tmp_path):
    """Mallory is admitted and claims to be a replica of the formed service; the parameters do
    not list its key, so it refuses to start before it touches a broker."""
    directory = tmp_path / "mallory" / "nodes" / "mallory"
    _join_as_replica(doorman, directory, "O=Mallory Replica, L=Zurich, C=CH", SERVICE)

    run = _run(DLT, "node", "run", "--config", str(directory / "config.json"), check=False)

    assert run.returncode == 1
    assert "do not list O=Mallory Replica" in run.stderr.strip().splitlines()[-1]
    assert "Traceback" not in run.stderr


def test_a_replica_of_a_service_not_yet_formed_refuses_to_run(doorman, tmp_path):
    directory = tmp_path / "late" / "nodes" / "replica"
    service = "O=Unformed Notary, L=Bern, C=CH"
    _join_as_replica(doorman, directory, "O=Unformed Replica, L=Bern, C=CH", service)

    run = _run(DLT, "node", "run", "--config", str(directory / "config.json"), check=False)

    assert run.returncode == 1
    assert f"name no notary {service}" in run.stderr.strip().splitlines()[-1]
    assert "Traceback" not in run.stderr
