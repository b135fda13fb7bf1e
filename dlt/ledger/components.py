"""Component groups and the hashing that makes a transaction id.

Leaf = H(nonce || component bytes), nonce = H(privacy salt || group || index). The salt keeps a
revealed leaf from leaking its neighbours: without it, a low-entropy component (an amount, a
well-known party) could be guessed from its hash.
"""

from __future__ import annotations

import enum
import os

from dlt.crypto import SecureHash

PRIVACY_SALT_SIZE = 32


class ComponentGroup(enum.IntEnum):
    INPUTS = 0
    OUTPUTS = 1
    COMMANDS = 2
    ATTACHMENTS = 3
    NOTARY = 4
    TIMEWINDOW = 5
    SIGNERS = 6
    REFERENCES = 7
    PARAMETERS_HASH = 8


def new_privacy_salt() -> bytes:
    return os.urandom(PRIVACY_SALT_SIZE)


def check_privacy_salt(salt: bytes) -> bytes:
    if not isinstance(salt, bytes) or len(salt) != PRIVACY_SALT_SIZE:
        raise ValueError(f"a privacy salt is {PRIVACY_SALT_SIZE} bytes")
    if salt == bytes(PRIVACY_SALT_SIZE):
        raise ValueError("a privacy salt of all zero bytes gives no privacy; use random bytes")
    return salt


def component_nonce(salt: bytes, group: ComponentGroup, index: int) -> SecureHash:
    return SecureHash.sha256(salt + int(group).to_bytes(4, "big") + index.to_bytes(4, "big"))


def component_leaf(nonce: SecureHash, component: bytes) -> SecureHash:
    return SecureHash.sha256(nonce.bytes + component)
