"""Sealing: only the recipient opens a payload, and only as from its real sender and id."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from dlt.crypto import Ed25519PrivateKey
from dlt.identity import X500Name
from dlt.messaging.sealing import (
    OVERHEAD,
    PAD_QUANTUM,
    Sealer,
    SealError,
    is_sealed,
    x25519_private_from_ed25519,
    x25519_public_from_ed25519,
)

ALICE = X500Name("Alice Solar", "Leeds", "GB")
BOB = X500Name("Bob Wind", "York", "GB")
MALLORY = X500Name("Mallory Broker", "London", "GB")


@pytest.fixture
def keys() -> dict[X500Name, Ed25519PrivateKey]:
    return {name: Ed25519PrivateKey.generate() for name in (ALICE, BOB, MALLORY)}


def sealer(name: X500Name, keys: dict[X500Name, Ed25519PrivateKey]) -> Sealer:
    directory = {n: k.public_key for n, k in keys.items()}
    return Sealer(name, keys[name], directory.get)


def _raw(key: object) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_the_public_conversion_agrees_with_the_private_one():
    for _ in range(20):
        key = Ed25519PrivateKey.generate()
        expected = x25519_private_from_ed25519(key).public_key()
        assert _raw(x25519_public_from_ed25519(key.public_key)) == _raw(expected)


def test_the_recipient_opens_what_the_sender_sealed(keys):
    body = sealer(ALICE, keys).seal(BOB, "s1.0.0", b"a bid for 2 kWh at 20")
    assert is_sealed(body)
    assert b"bid" not in body
    assert sealer(BOB, keys).open(ALICE, "s1.0.0", body) == b"a bid for 2 kWh at 20"


def test_sizes_leak_only_in_steps_of_the_pad_quantum(keys):
    alice = sealer(ALICE, keys)
    sizes = {len(alice.seal(BOB, "m", b"x" * n)) for n in range(PAD_QUANTUM - 1)}
    assert sizes == {PAD_QUANTUM + OVERHEAD}


def test_a_third_party_cannot_open_it(keys):
    body = sealer(ALICE, keys).seal(BOB, "m", b"secret")
    with pytest.raises(SealError):
        sealer(MALLORY, keys).open(ALICE, "m", body)


def test_an_altered_body_is_refused(keys):
    body = bytearray(sealer(ALICE, keys).seal(BOB, "m", b"quantity 2000"))
    body[-20] ^= 1
    with pytest.raises(SealError, match="altered"):
        sealer(BOB, keys).open(ALICE, "m", bytes(body))


def test_a_body_moved_to_another_message_id_is_refused(keys):
    body = sealer(ALICE, keys).seal(BOB, "s1.0.0", b"first")
    with pytest.raises(SealError):
        sealer(BOB, keys).open(ALICE, "s1.0.1", body)


def test_a_message_claimed_from_another_sender_is_refused(keys):
    """The broker can set any user id; the seal still names who made it."""
    body = sealer(MALLORY, keys).seal(BOB, "m", b"forged order")
    with pytest.raises(SealError):
        sealer(BOB, keys).open(ALICE, "m", body)


def test_an_unsealed_body_is_refused(keys):
    with pytest.raises(SealError, match="not sealed"):
        sealer(BOB, keys).open(ALICE, "m", b"plain text a broker injected")


def test_sealing_to_an_unknown_peer_fails(keys):
    with pytest.raises(SealError, match="no Ed25519 identity key"):
        sealer(ALICE, keys).seal(X500Name("Nobody", "Leeds", "GB"), "m", b"x")


def test_every_seal_of_the_same_payload_differs(keys):
    alice = sealer(ALICE, keys)
    assert alice.seal(BOB, "m", b"same") != alice.seal(BOB, "m", b"same")
