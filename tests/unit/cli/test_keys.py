"""`dlt keys generate`: a private key file only its owner can read, and its public key."""

from __future__ import annotations

import stat

import pytest

from dlt.crypto import (
    EcdsaP256PrivateKey,
    Ed25519PrivateKey,
    InvalidKeyError,
    load_private_key,
    parse_public_key,
)


def printed(result, label: str) -> str:
    for line in result.stdout.splitlines():
        if line.startswith(f"{label}:"):
            return line.partition(":")[2].strip()
    raise AssertionError(f"no {label!r} line in {result.stdout!r}")


@pytest.fixture(scope="module")
def generated(run_dlt, tmp_path_factory):
    out = tmp_path_factory.mktemp("keys") / "node"
    result = run_dlt("keys", "generate", "--out", str(out))
    return result, out / "private_key.pem"


def test_generate_writes_a_pem_private_key(generated):
    result, path = generated

    assert result.returncode == 0, result.stderr
    assert isinstance(load_private_key(path.read_bytes()), Ed25519PrivateKey)


def test_generate_prints_the_public_key_of_the_written_key(generated):
    result, path = generated

    key = load_private_key(path.read_bytes())

    assert parse_public_key(printed(result, "public key")) == key.public_key
    assert printed(result, "fingerprint") == str(key.public_key.fingerprint)


def test_the_key_file_is_readable_by_its_owner_only(generated):
    _, path = generated

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_key_file_is_never_overwritten(run_dlt, generated):
    _, path = generated
    before = path.read_bytes()

    result = run_dlt("keys", "generate", "--out", str(path.parent))

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"dlt: error: {path} already exists; refusing to overwrite a private key"
    )
    assert path.read_bytes() == before
    assert result.stdout == ""


def test_generate_can_make_a_p256_key_under_another_name(run_dlt, tmp_path):
    result = run_dlt(
        "keys", "generate", "--out", str(tmp_path), "--scheme", "ecdsa-p256", "--name", "tls"
    )

    assert result.returncode == 0, result.stderr
    assert isinstance(load_private_key((tmp_path / "tls.pem").read_bytes()), EcdsaP256PrivateKey)


def test_a_password_from_the_environment_encrypts_the_key(run_dlt, tmp_path):
    result = run_dlt(
        "keys",
        "generate",
        "--out",
        str(tmp_path),
        "--password-env",
        "NODE_KEY_PASSWORD",
        env={"NODE_KEY_PASSWORD": "correct horse"},
    )
    pem = (tmp_path / "private_key.pem").read_bytes()

    assert result.returncode == 0, result.stderr
    assert b"ENCRYPTED" in pem
    assert load_private_key(pem, b"correct horse").public_key == parse_public_key(
        printed(result, "public key")
    )
    with pytest.raises(InvalidKeyError):
        load_private_key(pem)


def test_an_unset_password_variable_is_refused_before_writing_anything(run_dlt, tmp_path):
    result = run_dlt(
        "keys", "generate", "--out", str(tmp_path), "--password-env", "DLT_TEST_UNSET_VARIABLE"
    )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "dlt: error: environment variable DLT_TEST_UNSET_VARIABLE is not set"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_name_with_a_path_in_it_is_refused(run_dlt, tmp_path):
    result = run_dlt("keys", "generate", "--out", str(tmp_path), "--name", "../escape")

    assert result.returncode == 1
    assert "--name must be a plain file name" in result.stderr
    assert not (tmp_path.parent / "escape.pem").exists()


def test_an_output_directory_that_is_a_file_is_reported(run_dlt, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.write_text("")

    result = run_dlt("keys", "generate", "--out", str(occupied))

    assert result.returncode == 1
    assert result.stderr.strip() == f"dlt: error: cannot create directory {occupied}: File exists"
