"""An organisation joins an existing network with the doorman's URL and the network root only,
and the operator decides: `dlt node init`, `python -m networkmap pending|approve|reject`,
`dlt node enrol`. Real processes: the doorman serves on loopback without dev mode."""

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
from dlt.identity import X500Name, certs_from_pem

DLT = str(Path(sys.executable).with_name("dlt"))
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Wind, L=York, C=GB"


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
    doorman: tuple[Path, str], directory: Path, name: str, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    home, url = doorman
    directory.parent.mkdir(parents=True, exist_ok=True)
    root = directory.parent / "network-root.pem"
    root.write_bytes((home / "truststore.pem").read_bytes())  # the one file handed over
    return _run(
        DLT,
        *("node", "init", "--doorman", url, "--network-root", str(root), "--name", name),
        *("--directory", str(directory), "--broker", "amqps://127.0.0.1:5671/%2F"),
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
