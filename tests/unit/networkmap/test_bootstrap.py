"""The offline bootstrapper and the operator commands of `python -m networkmap`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from dlt.crypto import EcdsaP256PrivateKey
from dlt.encoding import decode
from dlt.identity import (
    CertRole,
    X500Name,
    cert_from_pem,
    cert_role,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    create_csr,
    csr_to_pem,
    validate_path,
)
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.network_map_types import SignedNetworkParameters, SignedNodeInfo
from networkmap.__main__ import main
from networkmap.bootstrap import (
    KEY_PASSWORD_ENV,
    BootstrapError,
    NetworkHome,
    NetworkHomeError,
    bootstrap_network,
    node_slug,
)
from networkmap.doorman import Doorman, RegistrationStatus

from .conftest import ALICE, BOB

NOTARY = X500Name("Notary Service", "London", "GB")


@pytest.fixture
def network(tmp_path):
    return bootstrap_network(
        tmp_path / "net",
        notaries=[(NOTARY, True)],
        nodes=[ALICE, BOB],
        node_info_fields={ALICE: {"addresses": ("amqps://127.0.0.1:5671/alice",), "serial": 2}},
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_key_is_private_and_every_chain_validates(network) -> None:
    home = network.home
    root = cert_from_pem(home.truststore.read_bytes())
    assert root == network.root_cert
    for key in home.root.rglob("*.key"):
        assert _mode(key) == 0o600, key
    assert _mode(home.ca_dir) == 0o700
    for node in network.nodes:
        assert cert_from_pem((node.directory / "truststore.pem").read_bytes()) == root
        for leaf, role in [
            ("node-ca", CertRole.NODE_CA),
            ("tls", CertRole.TLS),
            ("identity", CertRole.LEGAL_IDENTITY),
        ]:
            chain = certs_from_pem((node.directory / "certificates" / f"{leaf}.pem").read_bytes())
            validate_path(chain, root)
            assert cert_role(chain[0]) is role
            assert (node.directory / "certificates" / f"{leaf}.key").is_file()
    service_chain = certs_from_pem(home.service_tls_chain.read_bytes())
    validate_path(service_chain, root)


def test_node_infos_verify_and_carry_the_callers_fields(network) -> None:
    for node in network.nodes:
        signed = decode((node.directory / "node-info.signed").read_bytes(), SignedNodeInfo)
        info = signed.verify(network.root_cert)
        assert info == node.node_info
        assert info.name == node.name
    alice = network.node(ALICE).node_info
    assert alice.addresses == ("amqps://127.0.0.1:5671/alice",)
    assert alice.serial == 2


def test_parameters_list_the_notary_by_its_nodes_legal_identity(network) -> None:
    for path in [network.home.network_parameters, *network.home.nodes_dir.glob("*/network-*")]:
        signed = decode(path.read_bytes(), SignedNetworkParameters)
        assert signed.verify(network.root_cert) == network.parameters
    (notary,) = network.parameters.notaries
    assert notary.validating
    assert notary.identity == network.node(NOTARY).node_info.legal_identity
    assert network.node(NOTARY).notary == notary
    assert network.node(ALICE).notary is None


def test_tls_certificates_name_exactly_the_node_and_its_broker_user(network) -> None:
    for node in network.nodes:
        tls = cert_from_pem((node.directory / "certificates" / "tls.pem").read_bytes())
        assert certificate_name(tls) == node.name
        assert node.broker_user == broker_user_name(node.name)
        described = json.loads((node.directory / "node.json").read_text())
        assert described["broker_user"] == broker_user_name(node.name)
    assert network.node(ALICE).directory.name == "alice-solar-leeds-gb"


def test_names_that_differ_only_in_case_are_refused(tmp_path) -> None:
    with pytest.raises(BootstrapError, match="differ only in case or spacing"):
        bootstrap_network(
            tmp_path,
            nodes=[X500Name("Alice Solar", "Leeds", "GB"), X500Name("ALICE SOLAR", "Leeds", "GB")],
        )


def test_slugs_are_ascii_and_stable() -> None:
    name = X500Name("Zürich Strom", "Zürich", "CH", organisation_unit="Grid")
    assert node_slug(name) == "zurich-strom-grid-zurich-ch"


def test_an_existing_network_is_never_overwritten(network) -> None:
    with pytest.raises(BootstrapError, match="already holds a network"):
        bootstrap_network(network.home.root, nodes=[ALICE])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nodes": [ALICE], "node_info_fields": {BOB: {}}}, "not nodes of this network"),
        (
            {"nodes": [ALICE], "node_info_fields": {ALICE: {"legal_identity": None}}},
            "only addresses",
        ),
        ({"notaries": [(NOTARY, False), (NOTARY, True)]}, "listed twice"),
        ({"nodes": [ALICE], "dev": False}, "must be encrypted"),
        (
            {"nodes": [X500Name("A B", "Leeds", "GB"), X500Name("A-B", "Leeds", "GB")]},
            "share the directory",
        ),
    ],
)
def test_bad_requests_are_refused_before_anything_is_written(tmp_path, kwargs, message) -> None:
    with pytest.raises(BootstrapError, match=message):
        bootstrap_network(tmp_path / "net", **kwargs)
    assert not (tmp_path / "net").exists()


def test_a_production_network_encrypts_its_ca_keys(tmp_path, monkeypatch) -> None:
    result = bootstrap_network(tmp_path / "net", nodes=[ALICE], dev=False, key_password=b"s3cret")
    home = result.home
    assert b"ENCRYPTED" in home.doorman_key.read_bytes()
    assert "DLT Energy Dev" not in str(certificate_name(result.root_cert))
    monkeypatch.delenv(KEY_PASSWORD_ENV, raising=False)
    with pytest.raises(NetworkHomeError, match=KEY_PASSWORD_ENV):
        home.load_key(home.doorman_key)
    monkeypatch.setenv(KEY_PASSWORD_ENV, "s3cret")
    doorman_key = home.load_key(home.doorman_key)
    assert doorman_key.public_key == certificate_public_key(home.load_cert(home.doorman_cert))


def test_a_missing_home_says_how_to_create_it(tmp_path) -> None:
    home = NetworkHome(tmp_path / "nowhere")
    with pytest.raises(NetworkHomeError, match="networkmap bootstrap --home"):
        home.load_cert(home.root_cert)


def test_cli_bootstraps_and_the_operator_decides(tmp_path, capsys) -> None:
    home = tmp_path / "net"
    assert (
        main(
            [
                "bootstrap",
                "--home",
                str(home),
                "--notary",
                str(NOTARY),
                "--validating",
                "--node",
                str(ALICE),
            ]
        )
        == 0
    )
    assert "notary-service-london-gb" in capsys.readouterr().out
    layout = NetworkHome(home)
    params = decode(layout.network_parameters.read_bytes(), SignedNetworkParameters)
    assert params.verify(layout.load_cert(layout.root_cert)).notaries[0].validating

    doorman = Doorman(
        layout.database,
        root_cert=layout.load_cert(layout.root_cert),
        doorman_cert=layout.load_cert(layout.doorman_cert),
    )

    def csr(name: X500Name) -> bytes:
        return csr_to_pem(create_csr(subject=name, key=EcdsaP256PrivateKey.generate()))

    carol = doorman.submit(csr(X500Name("Carol", "Bath", "GB"))).ticket
    dave = doorman.submit(csr(X500Name("Dave", "Hull", "GB"))).ticket
    assert main(["pending", "--home", str(home)]) == 0
    listing = capsys.readouterr().out
    assert carol in listing
    assert "O=Dave, L=Hull, C=GB" in listing

    assert main(["approve", "--home", str(home), carol]) == 0
    assert main(["reject", "--home", str(home), dave, "--reason", "unknown member"]) == 0
    assert doorman.status(carol).status is RegistrationStatus.APPROVED
    assert doorman.status(dave).reason == "unknown member"
    capsys.readouterr()
    assert main(["approve", "--home", str(home), dave]) == 1
    assert "was rejected" in capsys.readouterr().err
    assert main(["pending", "--home", str(home)]) == 0
    assert "no registrations are pending" in capsys.readouterr().out


def test_the_operator_approves_several_registrations_in_one_command(tmp_path, capsys) -> None:
    home = tmp_path / "net"
    assert main(["bootstrap", "--home", str(home), "--notary", str(NOTARY)]) == 0
    layout = NetworkHome(home)
    doorman = Doorman(
        layout.database,
        root_cert=layout.load_cert(layout.root_cert),
        doorman_cert=layout.load_cert(layout.doorman_cert),
    )
    tickets = [
        doorman.submit(
            csr_to_pem(create_csr(subject=name, key=EcdsaP256PrivateKey.generate()))
        ).ticket
        for name in (X500Name("Carol", "Bath", "GB"), X500Name("Dave", "Hull", "GB"))
    ]
    capsys.readouterr()

    assert main(["approve", "--home", str(home), *tickets]) == 0

    assert capsys.readouterr().out.count("approved") == 2
    assert all(doorman.status(t).status is RegistrationStatus.APPROVED for t in tickets)


def test_cli_refuses_bad_names_and_validating_without_notary(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["bootstrap", "--home", str(tmp_path), "--node", "Alice"])
    assert "not an X.500 name" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bootstrap", "--home", str(tmp_path), "--validating"])
    assert "give --notary first" in capsys.readouterr().err


def test_the_doorman_admits_a_meter_per_household_and_the_parameters_trust_it(tmp_path) -> None:
    result = bootstrap_network(
        tmp_path / "net",
        notaries=[(NOTARY, False)],
        nodes=[ALICE, BOB],
        meters=[ALICE],
        doorman_trusted_for=["energy.meter-ca"],
    )
    directory = result.home.meter_dir(ALICE)
    meter, doorman = certs_from_pem((directory / "meter.pem").read_bytes())
    assert cert_role(meter) is CertRole.METER
    assert certificate_name(meter) == X500Name(
        ALICE.organisation, ALICE.locality, ALICE.country, common_name="Meter"
    )
    validate_path([meter, doorman], result.root_cert)
    assert _mode(directory / "meter.key") == 0o600
    assert not result.home.meter_dir(BOB).exists()
    assert result.parameters.signers_for("energy.meter-ca") == (certificate_public_key(doorman),)
