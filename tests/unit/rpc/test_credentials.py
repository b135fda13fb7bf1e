"""The RPC server reads a caller's username and password from HTTP Basic metadata only.

Whatever else a caller sends, a call without one well-formed Basic entry is refused as
UNAUTHENTICATED with the form to use, before any password is checked.
"""

from __future__ import annotations

import base64

import grpc
import pytest

from dlt.rpc.server.auth import credentials
from dlt.rpc.server.errors import Refusal


def basic(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return "Basic " + base64.b64encode(raw).decode("ascii")


def refused(metadata: list[tuple[str, str | bytes]]) -> Refusal:
    with pytest.raises(Refusal) as refusal:
        credentials(metadata)
    return refusal.value


def test_basic_credentials_give_the_username_and_password():
    assert credentials([("authorization", basic("ops:s3cret"))]) == ("ops", "s3cret")


def test_the_password_is_everything_after_the_first_colon():
    assert credentials([("authorization", basic("ops:a:b:c"))]) == ("ops", "a:b:c")


def test_key_and_scheme_are_case_insensitive_and_bytes_values_are_read():
    token = basic("ops:pw").split(" ", 1)[1]

    assert credentials([("Authorization", f"BASIC {token}".encode())]) == ("ops", "pw")


def test_other_metadata_is_ignored():
    metadata = [("user-agent", "grpc-python"), ("authorization", basic("ops:pw"))]

    assert credentials(metadata) == ("ops", "pw")


def test_a_call_without_credentials_is_told_the_form_to_use():
    refusal = refused([("user-agent", "grpc-python")])

    assert refusal.code is grpc.StatusCode.UNAUTHENTICATED
    assert "`authorization: Basic base64(username:password)`" in refusal.message


@pytest.mark.parametrize(
    "value",
    [
        "Bearer b3BzOnB3",
        "Basic not*base64",
        basic("no colon here"),
        basic(":password-without-user"),
        basic(b"ops:\xff\xfe"),
    ],
    ids=["other scheme", "not base64", "no colon", "empty username", "not utf-8"],
)
def test_malformed_basic_credentials_are_refused(value):
    assert refused([("authorization", value)]).code is grpc.StatusCode.UNAUTHENTICATED


def test_only_the_first_authorization_entry_counts():
    """A caller cannot slip past a malformed first entry with a second, valid one."""
    refusal = refused([("authorization", "Bearer x"), ("authorization", basic("ops:pw"))])

    assert refusal.code is grpc.StatusCode.UNAUTHENTICATED
