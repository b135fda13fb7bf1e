"""Ledger values as plain JSON data, and as short text for table cells.

The RPC sends every ledger object twice: canonically encoded (exact, hashable, needs the
CorDapp to decode) and rendered here as JSON (readable by anyone: an operator's table, a shell
script, a dashboard). The JSON rendering is for reading only; nothing hashes or signs it, so
it may change shape as long as it stays informative. States and other registered models are
rendered with pydantic's `model_dump(mode="json")`, which is how their authors already see them.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from dlt.crypto import PublicKey, SecureHash
from dlt.encoding import EncodingError, type_name_of
from dlt.identity import AbstractParty, Party, X500Name
from dlt.ledger import (
    Attachment,
    ComponentGroup,
    InvalidTransactionSignatureError,
    SignedTransaction,
    StateAndRef,
    TimeWindow,
    TransactionSignature,
)

JsonValue = Any
"""What `json.dumps` accepts: None, bool, int, str, lists and string-keyed dicts of them."""

DescribeKey = Callable[[PublicKey], str | None]
"""The name of the well-known party owning a key, if known; used to label signers."""


def type_name(value: object) -> str:
    """The registered ledger type name of `value`, else its Python type name."""
    if value is None:
        return "none"
    try:
        return type_name_of(type(value))
    except EncodingError:
        return type(value).__name__


def to_json(value: object) -> JsonValue:
    """Any value a flow may return or the vault may hold, as JSON data."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, SignedTransaction):
        return transaction_json(value)
    if isinstance(value, StateAndRef):
        return state_and_ref_json(value)
    if isinstance(value, Party):
        return party_json(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PublicKey):
        return value.to_string()
    if isinstance(value, Attachment):
        return {"id": str(value.id), "size": value.size}
    if isinstance(value, SecureHash | X500Name | AbstractParty):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    return str(value)


def party_json(party: Party) -> dict[str, JsonValue]:
    return {
        "name": str(party.name),
        "owning_key": party.owning_key.to_string(),
        "fingerprint": str(party.owning_key.fingerprint),
    }


def state_and_ref_json(sar: StateAndRef) -> dict[str, JsonValue]:
    """A state with where it was created; `data` holds the state's own fields."""
    state = sar.state
    return {
        "ref": str(sar.ref),
        "type": type_name(state.data),
        "contract": state.contract,
        "notary": str(state.notary.name),
        "encumbrance": state.encumbrance,
        "data": to_json(state.data),
    }


def transaction_json(
    stx: SignedTransaction, describe: DescribeKey | None = None
) -> dict[str, JsonValue]:
    """A signed transaction's components and signatures, signers labelled by party name."""
    tx = stx.tx

    def signer(key: PublicKey) -> dict[str, JsonValue]:
        return {
            "fingerprint": str(key.fingerprint),
            "party": describe(key) if describe is not None else None,
        }

    return {
        "id": str(stx.id),
        "notary": None if tx.notary is None else str(tx.notary.name),
        "time_window": None if tx.time_window is None else _window(tx.time_window),
        "inputs": [str(ref) for ref in tx.inputs],
        "references": [str(ref) for ref in tx.references],
        "outputs": [
            {
                "index": index,
                "type": type_name(state.data),
                "contract": state.contract,
                "notary": str(state.notary.name),
                "encumbrance": state.encumbrance,
                "data": to_json(state.data),
            }
            for index, state in enumerate(tx.outputs)
        ],
        "commands": [
            {
                "type": type_name(command.value),
                "data": to_json(command.value),
                "signers": [signer(key) for key in command.signers],
            }
            for command in tx.commands
        ],
        "attachments": [str(attachment) for attachment in tx.attachments],
        "network_parameters_hash": (
            None if tx.network_parameters_hash is None else str(tx.network_parameters_hash)
        ),
        "group_roots": {
            group.name.lower(): str(root)
            for group, root in zip(ComponentGroup, tx.group_roots, strict=True)
        },
        "signatures": [signer(sig.by) | _signature(sig, stx.id) for sig in stx.sigs],
    }


def _signature(sig: TransactionSignature, tx_id: SecureHash) -> dict[str, JsonValue]:
    """How a signature signs: its scheme, and for a notary's batch signature the batch root it
    signs and the Merkle proof from the transaction id up to it."""
    proof = sig.batch_proof
    return {
        "scheme": sig.metadata.scheme,
        "batch": None
        if proof is None
        else {
            "leaf_count": proof.leaf_count,
            "index": proof.indices[0] if len(proof.indices) == 1 else None,
            "proof": [str(node) for node in proof.hashes],
            "root": _signed_root(sig, tx_id),
        },
    }


def _signed_root(sig: TransactionSignature, tx_id: SecureHash) -> str | None:
    try:
        return str(sig.signed_root(tx_id))
    except (ValueError, InvalidTransactionSignatureError):
        return None


def _window(window: TimeWindow) -> dict[str, JsonValue]:
    return {
        "from": None if window.from_time is None else window.from_time.isoformat(),
        "until": None if window.until_time is None else window.until_time.isoformat(),
    }


_HEX = re.compile(r"[0-9a-f]{24,}")
_KEY_TEXT = "key:"
SHORT_HASH = 12


def brief(value: JsonValue) -> str:
    """A one-line rendering of JSON data for a table cell.

    Parties show as their names and long hashes and keys are shortened, because a table is
    for recognising things at a glance; `--json` has them in full.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if value.startswith(_KEY_TEXT):
            return f"{_KEY_TEXT}{value[len(_KEY_TEXT) :][: SHORT_HASH - 4]}…"
        if _HEX.fullmatch(value):
            return f"{value[:SHORT_HASH]}…"
        return value
    if isinstance(value, Mapping):
        if "name" in value and ("owning_key" in value or "fingerprint" in value):
            return str(value["name"])
        return ", ".join(f"{key}={brief(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(brief(item) for item in value) + "]"
    return json.dumps(value)
