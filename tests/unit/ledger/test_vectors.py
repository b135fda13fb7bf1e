"""Test vectors: these pin the wire format and must only change with a PLATFORM_VERSION bump.

ledger_v2.json records the canonical bytes of core values, every component group root, the id
of a fixed transaction and its (deterministic Ed25519) signatures. A node of another version or
another implementation must reproduce them exactly to interoperate. If a test here fails, the
change altered what goes on the wire: revert it, or bump PLATFORM_VERSION and regenerate with
`python tests/vectors/regenerate.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlt import PLATFORM_VERSION
from dlt.crypto import Ed25519PrivateKey, SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import SignatureMetadata, SignedTransaction, TransactionSignature
from fixtures.vectors import (
    ALICE_SEED,
    ATTACHMENT,
    NOTARY_SEED,
    VECTORS_PATH,
    compute_vectors,
    render_vectors,
    signed_transaction,
)

RECORDED = json.loads(VECTORS_PATH.read_text())
REGENERATE = VECTORS_PATH.parent / "regenerate.py"


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


RECORDED_ENTRIES = flatten(RECORDED)


@pytest.fixture(scope="module")
def computed() -> dict[str, object]:
    return flatten(compute_vectors())


@pytest.mark.parametrize("entry", sorted(RECORDED_ENTRIES))
def test_recomputed_value_matches_the_recorded_vector(entry, computed):
    assert computed[entry] == RECORDED_ENTRIES[entry]


def test_the_vectors_record_exactly_the_computed_entries(computed):
    assert set(computed) == set(RECORDED_ENTRIES)


def test_the_vectors_were_recorded_for_this_platform_version():
    assert RECORDED["platform_version"] == PLATFORM_VERSION


def test_the_file_is_exactly_what_the_regenerator_writes():
    assert VECTORS_PATH.read_text() == render_vectors()


def test_a_secure_hash_encodes_as_the_hand_built_cbor_map():
    expected = (
        bytes([0xA2, 0x65])
        + b"$type"
        + bytes([0x6A])
        + b"SecureHash"
        + bytes([0x66])
        + b"sha256"
        + bytes([0x58, 0x20])
        + ATTACHMENT.bytes
    )

    assert RECORDED["encodings"]["secure_hash"] == expected.hex()


@pytest.mark.parametrize(("signer", "seed"), [("alice", ALICE_SEED), ("notary", NOTARY_SEED)])
def test_each_recorded_signature_verifies_over_the_recorded_id(signer, seed):
    signature = TransactionSignature(
        by=Ed25519PrivateKey.from_seed(seed).public_key,
        signature=bytes.fromhex(RECORDED["signatures"][signer]),
        metadata=SignatureMetadata(platform_version=PLATFORM_VERSION, scheme="ed25519"),
    )

    signature.verify(SecureHash.parse(RECORDED["transaction_id"]))


def test_the_signed_transaction_decodes_from_its_encoding_with_the_same_bytes():
    encoded = encode(signed_transaction())

    decoded = decode(encoded, SignedTransaction)

    assert str(decoded.id) == RECORDED["transaction_id"]
    assert encode(decoded) == encoded
    decoded.verify_signatures()


def test_the_regenerator_runs_as_a_script(tmp_path):
    output = tmp_path / "ledger_v2.json"

    subprocess.run(
        [sys.executable, str(REGENERATE), "--output", str(output)],
        check=True,
        capture_output=True,
        timeout=60,
    )

    assert output.read_text() == VECTORS_PATH.read_text()
