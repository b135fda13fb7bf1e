"""The doorman revokes an admitted node: its certificates go on a signed, numbered CRL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from dlt.crypto import Ed25519PrivateKey
from dlt.identity import X500Name, certs_from_pem, create_csr, csr_to_pem
from dlt.identity.hierarchy import issue_node_identities, meter_name
from dlt.identity.revocation import CertificateRevokedError, RevocationList
from dlt.node.certificate_store import load_node_certificates
from networkmap.__main__ import main
from networkmap.bootstrap import NetworkHome, bootstrap_network
from networkmap.doorman import (
    Doorman,
    InvalidRegistrationError,
    MissingSigningKeyError,
    RegistrationStateError,
    RegistrationStatus,
    UnknownNodeError,
)

from .conftest import ALICE, BOB


def _crl(bundle: bytes) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(
        bundle.split(b"-----END X509 CRL-----")[0] + b"-----END X509 CRL-----\n"
    )


@pytest.fixture
def admitted(make_doorman, csr_for):
    """A dev doorman with Alice and Bob admitted; returns (doorman, Alice's node CA)."""
    doorman = make_doorman(dev_mode=True)
    registration = doorman.submit(csr_for(ALICE)[0])
    doorman.submit(csr_for(BOB)[0])
    return doorman, certs_from_pem(registration.certificate_chain_pem)[0]


def test_revoking_lists_the_node_ca_serial_on_a_crl_signed_by_the_doorman(admitted, dev_ca) -> None:
    doorman, alice_ca = admitted
    doorman.revoke(ALICE, "key compromised")
    bundle = doorman.crl_bundle()
    crl = _crl(bundle)
    assert crl.is_signature_valid(dev_ca.doorman_cert.public_key())
    assert crl.issuer == dev_ca.doorman_cert.subject
    assert [entry.serial_number for entry in crl] == [alice_ca.serial_number]
    verified = RevocationList.verify(bundle, dev_ca.root_cert)
    assert verified.serials == {alice_ca.serial_number}


def test_the_registration_reads_revoked_with_the_reason(admitted, make_doorman) -> None:
    doorman, _ = admitted
    registration = doorman.revoke(ALICE, "  key   compromised ")
    assert registration.status is RegistrationStatus.REVOKED
    assert registration.reason == "key compromised"
    assert make_doorman().status(registration.ticket).status is RegistrationStatus.REVOKED
    assert doorman.revoked_names() == {ALICE}


def test_every_crl_has_a_higher_number_and_a_future_next_update(admitted, dev_ca) -> None:
    doorman, _ = admitted
    doorman.revoke(ALICE, "left the market")
    first = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert)
    doorman.revoke(BOB, "left the market")
    second = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert)
    assert second.number > first.number
    assert second.next_update > datetime.now(UTC) + timedelta(days=7)
    assert len(second.serials) == 2


def test_revoking_twice_issues_no_new_crl(admitted, dev_ca) -> None:
    doorman, _ = admitted
    doorman.revoke(ALICE, "compromised")
    number = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert).number
    doorman.revoke(ALICE, "compromised again")
    assert RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert).number == number


def test_the_revoked_node_ca_revokes_every_certificate_it_issued(
    make_doorman, csr_for, dev_ca
) -> None:
    doorman = make_doorman(dev_mode=True)
    csr, key = csr_for(ALICE)
    chain = certs_from_pem(doorman.submit(csr).certificate_chain_pem)
    # The node CA signs its TLS and legal identity certificates itself, after admission.
    alice = issue_node_identities(
        node_ca_cert=chain[0], node_ca_key=key, doorman_cert=chain[1], root_cert=chain[2]
    )
    doorman.revoke(ALICE, "compromised")
    crl = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert)
    for what, path in (("TLS", alice.tls_chain), ("identity", alice.legal_identity_chain)):
        with pytest.raises(CertificateRevokedError, match="is revoked"):
            crl.check_path(path, what)


def test_an_expired_crl_still_revokes_what_it_lists_and_says_it_expired(admitted, dev_ca) -> None:
    doorman, alice_ca = admitted
    doorman.revoke(ALICE, "compromised")
    later = datetime.now(UTC) + timedelta(days=400)

    crl = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert, now=later)

    assert crl.expired(later)
    assert not crl.expired()
    assert alice_ca.serial_number in crl.serials


def test_an_unrevoked_nodes_paths_pass(admitted, dev_ca) -> None:
    doorman, _ = admitted
    doorman.revoke(ALICE, "compromised")
    bob = dev_ca.enrol_node(BOB)
    crl = RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert)
    crl.check_path(bob.tls_chain, "Bob's TLS chain")
    crl.check_path(bob.legal_identity_chain, "Bob's identity chain")


def test_a_revoked_node_cannot_register_again(admitted, csr_for) -> None:
    doorman, _ = admitted
    doorman.revoke(ALICE, "compromised")
    with pytest.raises(RegistrationStateError, match="revoked"):
        doorman.submit(csr_for(ALICE)[0])


def test_a_revoked_key_cannot_come_back_under_a_new_name(make_doorman, csr_for) -> None:
    doorman = make_doorman(dev_mode=True)
    csr, key = csr_for(ALICE)
    doorman.submit(csr)
    doorman.revoke(ALICE, "compromised")
    renamed = csr_to_pem(create_csr(subject=X500Name("Alice Two", "Leeds", "GB"), key=key))
    with pytest.raises(RegistrationStateError, match="revoked"):
        doorman.submit(renamed)


def test_a_revoked_household_gets_no_meter_and_its_meters_are_listed(admitted, dev_ca) -> None:
    doorman, _ = admitted
    meter_key = Ed25519PrivateKey.generate()
    meter_csr = csr_to_pem(create_csr(subject=meter_name(ALICE), key=meter_key))
    meter = certs_from_pem(doorman.admit_meter(meter_csr))[0]
    doorman.revoke(ALICE, "compromised")
    assert (
        meter.serial_number in RevocationList.verify(doorman.crl_bundle(), dev_ca.root_cert).serials
    )
    with pytest.raises(InvalidRegistrationError, match="revoked"):
        doorman.admit_meter(meter_csr)


def test_an_unknown_name_cannot_be_revoked(make_doorman) -> None:
    with pytest.raises(UnknownNodeError, match="no admitted node"):
        make_doorman().revoke(ALICE, "who?")


def test_revocation_needs_the_doorman_key(admitted, make_doorman) -> None:
    with pytest.raises(MissingSigningKeyError):
        make_doorman(with_key=False).revoke(ALICE, "compromised")


def test_a_doorman_without_its_key_serves_the_stored_crl(admitted, make_doorman) -> None:
    doorman, _ = admitted
    doorman.revoke(ALICE, "compromised")
    assert make_doorman(with_key=False).crl_bundle() == doorman.crl_bundle()


def test_a_bootstrapped_node_and_its_meter_can_be_revoked_by_name(tmp_path) -> None:
    home = NetworkHome(tmp_path / "net")
    result = bootstrap_network(home.root, nodes=[ALICE, BOB], meters=[ALICE])
    code = main(["revoke", "--home", str(home.root), str(ALICE), "--reason", "left the market"])
    assert code == 0
    doorman = Doorman(
        home.database,
        root_cert=home.load_cert(home.root_cert),
        doorman_cert=home.load_cert(home.doorman_cert),
    )
    alice_ca = load_node_certificates(result.node(ALICE).directory).node_ca_cert
    crl = RevocationList.verify(doorman.crl_bundle(), home.load_cert(home.root_cert))
    meter = certs_from_pem((home.meter_dir(ALICE) / "meter.pem").read_bytes())[0]
    assert crl.serials == {alice_ca.serial_number, meter.serial_number}


def test_the_revoke_command_names_an_unknown_node_in_one_line(tmp_path, capsys) -> None:
    home = tmp_path / "net"
    bootstrap_network(home, nodes=[ALICE])
    assert main(["revoke", "--home", str(home), str(BOB), "--reason", "who?"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no admitted node is called")
