"""`dlt tx decode`: a readable summary of an encoded SignedTransaction, or a one-line error.

Decoding builds registered types only, so the CorDapp that defines the transaction's states and
commands must be imported with --cordapp; the sample CorDapp is importable from tests/.
"""

from __future__ import annotations

import json

import pytest

from dlt.crypto import SecureHash
from dlt.encoding import encode
from dlt.encoding.canonical import dumps
from dlt.ledger import ComponentGroup, SignedTransaction, sign_transaction_id
from fixtures.vectors import (
    ALICE,
    ALICE_KEY,
    INPUTS,
    ISSUER,
    NOTARY,
    REFERENCE,
    signed_transaction,
    wire_transaction,
)

CORDAPP = ("--cordapp", "sample_cordapp")


@pytest.fixture(scope="module")
def transaction_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tx") / "transaction.bin"
    path.write_bytes(encode(signed_transaction()))
    return path


@pytest.fixture(scope="module")
def text_output(run_dlt, transaction_file):
    return run_dlt("tx", "decode", str(transaction_file), *CORDAPP)


@pytest.fixture(scope="module")
def json_output(run_dlt, transaction_file):
    result = run_dlt("tx", "decode", str(transaction_file), *CORDAPP, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write(tmp_path, data: bytes):
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    return path


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("dlt: error: ")
    for fragment in fragments:
        assert fragment in result.stderr


# -- the summary --------------------------------------------------------------------------


def test_text_summary_names_the_transaction_and_its_notary(text_output):
    assert text_output.returncode == 0, text_output.stderr
    lines = text_output.stdout.splitlines()

    assert lines[0] == f"transaction {signed_transaction().id}"
    assert lines[1] == f"notary: {NOTARY}"


def test_text_summary_lists_inputs_and_references(text_output):
    for ref in (*INPUTS, REFERENCE):
        assert f"  {ref}\n" in text_output.stdout


def test_text_summary_shows_each_output_type_and_fields(text_output):
    expected = (
        "outputs (2):\n"
        "  [0] test.TokenState (contract test.TokenContract, AlwaysAcceptAttachmentConstraint)\n"
        f"      owner: {ALICE}\n"
        f"      issuer: {ISSUER}\n"
        "      amount: 70\n"
    )

    assert expected in text_output.stdout


def test_text_summary_names_the_signers_and_their_validity(text_output):
    assert f"  {ALICE} ({ALICE.owning_key.fingerprint.prefix(12)}): valid" in text_output.stdout
    assert f"  {NOTARY} ({NOTARY.owning_key.fingerprint.prefix(12)}): valid" in text_output.stdout
    assert "missing signers: none" in text_output.stdout


def test_json_summary_holds_the_transaction_parts(json_output):
    tx = wire_transaction()

    assert json_output["id"] == str(tx.id)
    assert json_output["notary"] == str(NOTARY)
    assert json_output["inputs"] == [str(ref) for ref in INPUTS]
    assert json_output["references"] == [str(REFERENCE)]
    assert json_output["attachments"] == [str(a) for a in tx.attachments]
    assert json_output["time_window"] == {
        "from": "2026-06-01T12:00:00+00:00",
        "until": "2026-06-01T12:30:00.250000+00:00",
    }


def test_json_summary_gives_each_output_its_type_and_fields(json_output):
    outputs = json_output["outputs"]

    assert [o["type"] for o in outputs] == ["test.TokenState", "test.TokenState"]
    assert outputs[1]["fields"] == {"owner": str(ISSUER), "issuer": str(ISSUER), "amount": 30}
    assert outputs[1]["contract"] == "test.TokenContract"


def test_json_summary_identifies_signers_by_key_and_name(json_output):
    alice = {
        "key": ALICE.owning_key.to_string(),
        "fingerprint": str(ALICE.owning_key.fingerprint),
        "party": str(ALICE),
    }

    assert json_output["signatures"][0] == alice | {"valid": True}
    assert json_output["signatures"][1]["party"] == str(NOTARY)
    assert json_output["signatures"][1]["valid"] is True
    assert json_output["commands"] == [{"type": "test.TokenMove", "fields": {}, "signers": [alice]}]


def test_json_summary_reports_required_signers_that_have_not_signed(run_dlt, tmp_path):
    partly_signed = SignedTransaction(wire_transaction()).sign(ALICE_KEY)
    path = write(tmp_path, encode(partly_signed))

    result = run_dlt("tx", "decode", str(path), *CORDAPP, "--json")

    missing = json.loads(result.stdout)["missing_signers"]
    assert [signer["party"] for signer in missing] == [str(NOTARY)]


def test_a_signature_that_does_not_verify_is_marked_invalid(run_dlt, tmp_path):
    tx = wire_transaction()
    stray = sign_transaction_id(ALICE_KEY, SecureHash.sha256(b"another transaction"))
    path = write(tmp_path, encode(SignedTransaction(tx, [stray])))

    result = run_dlt("tx", "decode", str(path), *CORDAPP, "--json")

    summary = json.loads(result.stdout)
    assert [s["valid"] for s in summary["signatures"]] == [False]
    assert {s["party"] for s in summary["missing_signers"]} == {str(ALICE), str(NOTARY)}


# -- errors -------------------------------------------------------------------------------


def test_without_the_cordapp_the_unknown_type_is_named(run_dlt, transaction_file):
    result = run_dlt("tx", "decode", str(transaction_file))

    assert_one_line_error(result, "is not a signed transaction", "unknown type 'test.")


def test_a_missing_file_is_reported(run_dlt, tmp_path):
    result = run_dlt("tx", "decode", str(tmp_path / "absent.bin"))

    assert_one_line_error(result, "cannot read", "No such file or directory")


def test_bytes_that_are_not_an_encoding_are_reported(run_dlt, tmp_path):
    path = write(tmp_path, b"\xff\x00 definitely not cbor")

    result = run_dlt("tx", "decode", str(path), *CORDAPP)

    assert_one_line_error(result, "is not a signed transaction")


def test_an_encoding_of_something_else_is_reported(run_dlt, tmp_path):
    path = write(tmp_path, encode(SecureHash.sha256(b"not a transaction")))

    result = run_dlt("tx", "decode", str(path), *CORDAPP)

    assert_one_line_error(result, "expected SignedTransaction, got SecureHash")


def test_a_cordapp_that_cannot_be_imported_is_reported(run_dlt, transaction_file):
    result = run_dlt("tx", "decode", str(transaction_file), "--cordapp", "no_such_cordapp")

    assert_one_line_error(result, "cannot import CorDapp module 'no_such_cordapp'")


def with_time_window_component(component: bytes) -> bytes:
    """The signed transaction's encoding with its time-window component swapped out."""
    tx = wire_transaction()
    groups = [list(tx.components(group)) for group in ComponentGroup]
    groups[ComponentGroup.TIMEWINDOW] = [component]
    wire = {"$type": "WireTransaction", "salt": tx.privacy_salt, "groups": groups}
    return dumps({"$type": "SignedTransaction", "tx": wire, "sigs": []})


@pytest.mark.parametrize(
    "component",
    [
        encode(SecureHash.sha256(b"not a window")),
        dumps(
            {
                "$type": "TimeWindow",
                "from_time": {"$type": "instant", "us": 10**20},
                "until_time": None,
            }
        ),
    ],
    ids=["not-a-time-window", "instant-out-of-range"],
)
def test_a_malformed_time_window_is_reported_in_one_line(run_dlt, tmp_path, component):
    path = write(tmp_path, with_time_window_component(component))

    result = run_dlt("tx", "decode", str(path), *CORDAPP)

    assert_one_line_error(result, "is not a signed transaction")
