"""Meter attestation: readings a doorman-admitted meter signs, and the checks issuance makes.

A meter is a device, not a node: the doorman certifies its Ed25519 key with the METER role under
its household's name plus CN=Meter. For each 15-minute interval it signs a transaction whose one
output is a `MeterReadingState` (produced and consumed Wh) and hands it to its household's node,
which records it. Because the meter signs the whole transaction, a household cannot make a
second copy of a reading: replaying it yields the same transaction, the same state, and the
notary lets that state be consumed only once. Issuing energy consumes the reading and outputs it
again with `issued_wh` raised, so the supply invariant of the reference holds on the ledger:
new energy = max(0, (E_produced - E_consumed) - E_issued so far).
"""

from __future__ import annotations

import base64
from typing import Annotated, ClassVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import Field, PlainSerializer

from cordapp_energy.errors import ExpiredMeterError, ForeignReadingError, ForgedReadingError
from cordapp_energy.states import DeliveryWindow
from dlt.crypto import Ed25519PrivateKey, SecureHash, SingleKey
from dlt.encoding import serializable
from dlt.identity import AbstractParty, Party
from dlt.identity.certificates import (
    CertificateRoleError,
    CertRole,
    cert_role,
    certificate_name,
    certificate_public_key,
)
from dlt.identity.hierarchy import meter_name
from dlt.ledger import (
    CommandData,
    ContractState,
    NetworkParameters,
    SignedTransaction,
    TransactionBuilder,
)

METER_CONTRACT = "energy.MeterContract"
METER_CA_SIGNERS = "energy.meter-ca"
"""The purpose under which the network parameters name the doorman keys that admit meters."""


DerBytes = Annotated[
    bytes, PlainSerializer(lambda der: base64.b64encode(der).decode(), when_used="json")
]
"""Certificate bytes; base64 where the state is shown as JSON (RPC, the explorer)."""


@serializable("energy.MeterReading")
class MeterReadingState(ContractState):
    """One interval's reading of one household's meter, and how much energy it backs already.

    The certificates are DER: the meter's, and the doorman CA's that issued it, so any verifier
    can check the meter's role against the keys the network parameters trust.
    """

    contract_name: ClassVar[str | None] = METER_CONTRACT

    household: Party
    meter_certificate: DerBytes
    issuer_certificate: DerBytes
    window: DeliveryWindow
    produced_wh: int = Field(ge=0, strict=True)
    consumed_wh: int = Field(ge=0, strict=True)
    issued_wh: int = Field(default=0, ge=0, strict=True)

    @property
    def participants(self) -> tuple[AbstractParty, ...]:
        return (self.household,)

    @property
    def surplus_wh(self) -> int:
        """What the household may sell for the interval: produced minus consumed, at least 0."""
        return max(0, self.produced_wh - self.consumed_wh)

    @property
    def available_wh(self) -> int:
        """The reference's invariant: max(0, (E_produced - E_consumed) - E_issued)."""
        return max(0, self.surplus_wh - self.issued_wh)

    @property
    def meter_key(self) -> SingleKey:
        """The key the meter signs its readings with, as its certificate states it."""
        return certificate_public_key(_load(self.meter_certificate, "meter"))


@serializable("energy.RecordReading")
class RecordReading(CommandData):
    """A meter attests one interval's reading; the meter's certified key signs."""


def _load(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ForgedReadingError(
            f"forged meter reading: the {what} certificate is not DER X.509"
        ) from exc


def check_meter(reading: MeterReadingState, parameters: NetworkParameters | None) -> None:
    """Raise `ForgedReadingError` unless a doorman key the network trusts for meters issued the
    reading's meter certificate with the METER role, `ForeignReadingError` unless that
    certificate names the reading's household, and `ExpiredMeterError` unless it was valid
    throughout the reading's interval."""
    if parameters is None or not parameters.signers_for(METER_CA_SIGNERS):
        raise ForgedReadingError(
            f"no key is trusted for {METER_CA_SIGNERS} in the pinned network parameters, so no "
            "meter can be checked; the network's operator must name the doorman that admits meters"
        )
    meter = _load(reading.meter_certificate, "meter")
    issuer = _load(reading.issuer_certificate, "issuer")
    issuer_key = certificate_public_key(issuer)
    if issuer_key not in parameters.signers_for(METER_CA_SIGNERS):
        raise ForgedReadingError(
            f"forged meter reading: its meter certificate comes from {certificate_name(issuer)}, "
            "which the network parameters do not trust to admit meters"
        )
    try:
        meter.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ForgedReadingError(
            f"forged meter reading: the certificate of {certificate_name(meter)} does not verify "
            f"under the doorman key of {certificate_name(issuer)}"
        ) from exc
    try:
        role = cert_role(meter)
    except CertificateRoleError as exc:
        raise ForgedReadingError(f"forged meter reading: {exc}") from exc
    if role is not CertRole.METER:
        raise ForgedReadingError(
            f"forged meter reading: {certificate_name(meter)} holds a {role.name} certificate, "
            "not a METER one; only a meter the doorman admitted may sign readings"
        )
    if certificate_name(meter) != meter_name(reading.household.name):
        raise ForeignReadingError(
            f"foreign meter reading: the meter {certificate_name(meter)} reads for another "
            f"household than {reading.household.name}"
        )
    _check_validity(meter, reading.window)


def _check_validity(meter: x509.Certificate, window: DeliveryWindow) -> None:
    """A meter attests an interval only while its certificate is valid, start to end: the
    window is when the reading was taken, the one time every verifier agrees on."""
    valid_from, valid_to = meter.not_valid_before_utc, meter.not_valid_after_utc
    if window.start < valid_from:
        raise ExpiredMeterError(
            f"meter certificate not yet valid: {certificate_name(meter)} is valid from "
            f"{valid_from:%Y-%m-%d %H:%M} UTC, after the reading's interval {window} began"
        )
    if window.end > valid_to:
        raise ExpiredMeterError(
            f"meter certificate expired: {certificate_name(meter)} was valid until "
            f"{valid_to:%Y-%m-%d %H:%M} UTC, before the reading's interval {window} ended; "
            "the doorman must renew the meter's certificate"
        )


class Meter:
    """A household's metering device: its certified key signs one reading per interval."""

    def __init__(
        self,
        household: Party,
        key: Ed25519PrivateKey,
        certificate: x509.Certificate,
        issuer_certificate: x509.Certificate,
    ) -> None:
        self.household = household
        self.key = key
        self.certificate = certificate
        self.issuer_certificate = issuer_certificate

    def reading(
        self, window: DeliveryWindow, produced_wh: int, consumed_wh: int
    ) -> MeterReadingState:
        """The state this meter attests for `window`; nothing is issued against it yet."""
        return MeterReadingState(
            household=self.household,
            meter_certificate=self.certificate.public_bytes(Encoding.DER),
            issuer_certificate=self.issuer_certificate.public_bytes(Encoding.DER),
            window=window,
            produced_wh=produced_wh,
            consumed_wh=consumed_wh,
        )

    def sign_reading(
        self,
        window: DeliveryWindow,
        produced_wh: int,
        consumed_wh: int,
        *,
        notary: Party,
        parameters_hash: SecureHash,
    ) -> SignedTransaction:
        """The signed transaction that records one reading, for the household's node.

        The privacy salt is derived from the reading's window, so signing the same reading twice
        gives the same transaction: a meter that restarts cannot mint a second copy either.
        """
        builder = TransactionBuilder(notary=notary)
        builder.set_network_parameters_hash(parameters_hash)
        builder.add_output_state(self.reading(window, produced_wh, consumed_wh))
        builder.add_command(RecordReading(), self.key.public_key)
        salt = SecureHash.sha256(
            b"meter-reading/"
            + self.certificate.fingerprint(SHA256())
            + window.start.isoformat().encode()
        ).bytes
        return builder.sign(self.key, privacy_salt=salt)
