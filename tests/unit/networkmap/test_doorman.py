"""The doorman: CSR checks, dev auto-approval, operator decisions, duplicates, persistence."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dlt.crypto import Ed25519PrivateKey
from dlt.identity import (
    CertRole,
    X500Name,
    cert_role,
    certificate_name,
    certificate_public_key,
    certs_from_pem,
    create_csr,
    csr_to_pem,
    identity_host_name,
    validate_path,
)
from dlt.identity.hierarchy import meter_name
from networkmap.doorman import (
    DuplicateNameError,
    InvalidRegistrationError,
    MissingSigningKeyError,
    RegistrationStateError,
    RegistrationStatus,
    UnknownTicketError,
)

from .conftest import ALICE, BOB


def test_dev_mode_issues_a_node_ca_chain_at_once(make_doorman, csr_for, dev_ca) -> None:
    csr, key = csr_for(ALICE)
    registration = make_doorman(dev_mode=True).submit(csr)
    assert registration.status is RegistrationStatus.APPROVED
    chain = certs_from_pem(registration.certificate_chain_pem)
    validate_path(chain, dev_ca.root_cert)
    assert cert_role(chain[0]) is CertRole.NODE_CA
    assert certificate_name(chain[0]) == ALICE
    assert certificate_public_key(chain[0]) == key.public_key
    assert chain[1:] == [dev_ca.doorman_cert, dev_ca.root_cert]


def test_the_issued_node_ca_is_bound_to_exactly_the_approved_name(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    registration = doorman.submit(csr_for(ALICE)[0])
    node_ca = certs_from_pem(doorman.approve(registration.ticket).certificate_chain_pem)[0]
    constraints = node_ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert constraints.value.permitted_subtrees == [
        x509.DirectoryName(registration.name.to_x509()),
        x509.DNSName(identity_host_name(registration.name)),
    ]
    assert constraints.value.excluded_subtrees is None


@pytest.mark.parametrize(
    "variant",
    [
        X500Name("ALICE SOLAR", "Leeds", "GB"),
        X500Name("Alice  Solar", "Leeds", "GB"),
        X500Name("alice solar", "LEEDS", "GB"),
    ],
)
def test_a_name_that_differs_from_a_held_one_only_in_case_or_spacing_is_refused(
    make_doorman, csr_for, variant: X500Name
) -> None:
    """TLS stacks that fold case and spaces (Erlang/OTP does) would let either node's CA
    certify the other's name."""
    doorman = make_doorman(dev_mode=True)
    doorman.submit(csr_for(ALICE)[0])
    with pytest.raises(DuplicateNameError, match=r"differs from 'O=Alice Solar.*only in case"):
        doorman.submit(csr_for(variant)[0])


def test_without_dev_mode_a_request_waits_for_the_operator(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    registration = doorman.submit(csr_for(ALICE)[0])
    assert registration.status is RegistrationStatus.PENDING
    assert registration.certificate_chain_pem is None
    assert [r.ticket for r in doorman.pending()] == [registration.ticket]
    approved = doorman.approve(registration.ticket)
    assert approved.status is RegistrationStatus.APPROVED
    assert approved.certificate_chain_pem is not None
    assert doorman.pending() == []
    assert doorman.approve(registration.ticket) == approved


def test_rejected_request_keeps_its_reason_and_cannot_be_approved(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    ticket = doorman.submit(csr_for(ALICE)[0]).ticket
    rejected = doorman.reject(ticket, "unknown   organisation;\nprove membership first")
    assert rejected.status is RegistrationStatus.REJECTED
    assert rejected.reason == "unknown organisation; prove membership first"
    with pytest.raises(RegistrationStateError, match="submit a new CSR"):
        doorman.approve(ticket)


def test_approved_request_cannot_be_rejected(make_doorman, csr_for) -> None:
    doorman = make_doorman(dev_mode=True)
    ticket = doorman.submit(csr_for(ALICE)[0]).ticket
    with pytest.raises(RegistrationStateError, match="already approved"):
        doorman.reject(ticket, "too late")


def test_a_name_held_with_another_key_is_refused(make_doorman, csr_for) -> None:
    doorman = make_doorman(dev_mode=True)
    doorman.submit(csr_for(ALICE)[0])
    with pytest.raises(DuplicateNameError, match="already approved with another key"):
        doorman.submit(csr_for(ALICE)[0])


def test_a_name_requested_with_another_key_is_refused_while_pending(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    doorman.submit(csr_for(ALICE)[0])
    with pytest.raises(DuplicateNameError, match="already pending"):
        doorman.submit(csr_for(ALICE)[0])


def test_resubmitting_the_same_request_returns_the_same_ticket(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    csr, _ = csr_for(ALICE)
    assert doorman.submit(csr).ticket == doorman.submit(csr).ticket


def test_a_rejected_name_may_be_requested_again(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    first = doorman.submit(csr_for(ALICE)[0]).ticket
    doorman.reject(first, "typo in the request")
    second = doorman.submit(csr_for(ALICE)[0])
    assert second.ticket != first
    assert second.status is RegistrationStatus.PENDING


def test_state_survives_reopening_the_database(make_doorman, csr_for) -> None:
    doorman = make_doorman()
    pending = doorman.submit(csr_for(ALICE)[0]).ticket
    rejected = doorman.submit(csr_for(BOB)[0]).ticket
    doorman.reject(rejected, "no")
    reopened = make_doorman()
    assert reopened.status(pending).status is RegistrationStatus.PENDING
    assert reopened.status(rejected).reason == "no"
    assert reopened.approve(pending).status is RegistrationStatus.APPROVED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not a csr", "not a PEM certificate signing request"),
        (
            csr_to_pem(create_csr(subject=ALICE, key=Ed25519PrivateKey.generate())),
            "must be ECDSA P-256",
        ),
    ],
)
def test_malformed_requests_are_refused(make_doorman, body, message) -> None:
    with pytest.raises(InvalidRegistrationError, match=message):
        make_doorman(dev_mode=True).submit(body)


def test_a_csr_whose_signature_does_not_match_is_refused(make_doorman, csr_for) -> None:
    pem, _ = csr_for(ALICE)
    der = x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER)
    renamed = der.replace(b"Alice Solar", b"Alice Sxlar")
    tampered = x509.load_der_x509_csr(renamed).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(InvalidRegistrationError, match="not signed by the key it contains"):
        make_doorman(dev_mode=True).submit(tampered)


def test_the_networks_own_ca_names_cannot_be_requested(make_doorman, csr_for, dev_ca) -> None:
    doorman_name = X500Name.from_x509(dev_ca.doorman_cert.subject)
    with pytest.raises(InvalidRegistrationError, match="one of this network's CAs"):
        make_doorman(dev_mode=True).submit(csr_for(doorman_name)[0])


def test_unknown_tickets_and_missing_keys_are_reported(make_doorman, csr_for) -> None:
    doorman = make_doorman(with_key=False)
    with pytest.raises(UnknownTicketError, match="networkmap pending"):
        doorman.status("0" * 32)
    ticket = doorman.submit(csr_for(ALICE)[0]).ticket
    with pytest.raises(MissingSigningKeyError, match="without the doorman CA key"):
        doorman.approve(ticket)
    assert doorman.status(ticket).status is RegistrationStatus.PENDING


def _meter_csr(household: X500Name) -> tuple[bytes, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    return csr_to_pem(create_csr(subject=meter_name(household), key=key)), key


def test_the_operator_admits_a_meter_for_an_admitted_household(
    make_doorman, csr_for, dev_ca
) -> None:
    doorman = make_doorman(dev_mode=True)
    doorman.submit(csr_for(ALICE)[0])
    csr, key = _meter_csr(ALICE)
    chain = certs_from_pem(doorman.admit_meter(csr))
    validate_path(chain, dev_ca.root_cert)
    assert cert_role(chain[0]) is CertRole.METER
    assert certificate_name(chain[0]) == meter_name(ALICE)
    assert certificate_public_key(chain[0]) == key.public_key


def test_a_meter_for_a_household_that_is_not_admitted_is_refused(make_doorman) -> None:
    with pytest.raises(InvalidRegistrationError, match="not an admitted node"):
        make_doorman(dev_mode=True).admit_meter(_meter_csr(BOB)[0])


def test_a_meter_request_must_name_its_household_with_cn_meter(make_doorman, csr_for) -> None:
    doorman = make_doorman(dev_mode=True)
    doorman.submit(csr_for(ALICE)[0])
    key = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidRegistrationError, match="CN=Meter"):
        doorman.admit_meter(csr_to_pem(create_csr(subject=ALICE, key=key)))
