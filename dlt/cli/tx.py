"""`dlt tx`: inspect transactions offline, from the bytes a node stores or sends.

Decoding constructs registered types only, so the CorDapps that define a transaction's states
and commands must be imported first (`--cordapp MODULE`); nothing is loaded from the file itself.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.cli.tx_remote import register_commands
from dlt.crypto import PublicKey
from dlt.encoding import DecodingError, EncodingError, decode, type_name_of
from dlt.identity import AbstractParty, Party
from dlt.ledger import (
    MalformedTransactionError,
    SignedTransaction,
    StateRef,
    TimeWindow,
    WireTransaction,
)

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

Summary = dict[str, Any]


def register(subparsers: Subparsers) -> None:
    """Add `dlt tx decode`, and `show` and `list`, which ask a running node."""
    tx = add_group(subparsers, "tx", summary="inspect transactions")
    decode_parser = tx.add_parser(
        "decode",
        help="summarise an encoded SignedTransaction",
        description=(
            "Read a SignedTransaction in its canonical encoding (raw bytes) and print its id, "
            "notary, inputs, outputs, commands and signatures. The types of its states and "
            "commands must be importable: load their CorDapps with --cordapp."
        ),
    )
    decode_parser.add_argument("file", type=Path, metavar="FILE", help="the encoded transaction")
    decode_parser.add_argument(
        "--cordapp",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first so its registered types can be decoded (repeatable)",
    )
    decode_parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    decode_parser.set_defaults(handler=decode_command)
    register_commands(tx)


def decode_command(args: argparse.Namespace) -> int:
    """Handler of `dlt tx decode`."""
    for module in args.cordapp:
        _import_cordapp(module)
    stx = read_signed_transaction(args.file)
    summary = summarise(stx)
    print(json.dumps(summary, indent=2) if args.json else render_text(summary))
    return EXIT_OK


def read_signed_transaction(path: Path) -> SignedTransaction:
    """The SignedTransaction encoded in the file at `path`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return decode(data, SignedTransaction)
    except (DecodingError, MalformedTransactionError) as exc:
        raise CommandError(f"{path} is not a signed transaction: {exc}") from exc


def summarise(stx: SignedTransaction) -> Summary:
    """The transaction as plain JSON-ready data: what both output formats are rendered from."""
    tx = stx.tx
    names = _party_names(tx)
    validity = [sig.is_valid(stx.id) for sig in stx.sigs]
    valid_signers = {sig.by for sig, valid in zip(stx.sigs, validity, strict=True) if valid}
    missing = sorted(k for k in tx.required_signing_keys if not k.is_fulfilled_by(valid_signers))
    return {
        "id": str(stx.id),
        "notary": None if tx.notary is None else str(tx.notary),
        "time_window": None if tx.time_window is None else _window(tx.time_window),
        "inputs": [str(ref) for ref in tx.inputs],
        "references": [str(ref) for ref in tx.references],
        "outputs": [
            {
                "index": index,
                "type": type_name_of(type(state.data)),
                "contract": state.contract,
                "encumbrance": state.encumbrance,
                "constraint": type_name_of(type(state.constraint)),
                "fields": _fields(state.data),
            }
            for index, state in enumerate(tx.outputs)
        ],
        "commands": [
            {
                "type": type_name_of(type(command.value)),
                "fields": _fields(command.value),
                "signers": [_signer(key, names) for key in command.signers],
            }
            for command in tx.commands
        ],
        "attachments": [str(attachment) for attachment in tx.attachments],
        "network_parameters_hash": (
            None if tx.network_parameters_hash is None else str(tx.network_parameters_hash)
        ),
        "signatures": [
            {**_signer(sig.by, names), "valid": valid}
            for sig, valid in zip(stx.sigs, validity, strict=True)
        ],
        "missing_signers": [_signer(key, names) for key in missing],
    }


def render_text(summary: Summary) -> str:
    """A human-readable rendering of `summarise`'s result."""
    lines = [f"transaction {summary['id']}", f"notary: {summary['notary'] or 'none'}"]
    window = summary["time_window"]
    if window is not None:
        lines.append(f"time window: [{window['from'] or '-inf'}, {window['until'] or '+inf'})")
    lines += _section("inputs", summary["inputs"])
    lines += _section("references", summary["references"])
    lines.append(f"outputs ({len(summary['outputs'])}):")
    for output in summary["outputs"]:
        encumbrance = (
            "" if output["encumbrance"] is None else f", encumbered by {output['encumbrance']}"
        )
        lines.append(
            f"  [{output['index']}] {output['type']} (contract {output['contract']}, "
            f"{output['constraint']}{encumbrance})"
        )
        lines += [f"      {name}: {_text(value)}" for name, value in output["fields"].items()]
    lines.append(f"commands ({len(summary['commands'])}):")
    for command in summary["commands"]:
        signers = ", ".join(_signer_text(signer) for signer in command["signers"])
        fields = f" {_text(command['fields'])}" if command["fields"] else ""
        lines.append(f"  {command['type']}{fields} signed by {signers}")
    lines += _section("attachments", summary["attachments"])
    if summary["network_parameters_hash"] is not None:
        lines.append(f"network parameters: {summary['network_parameters_hash']}")
    lines.append(f"signatures ({len(summary['signatures'])}):")
    for signature in summary["signatures"]:
        status = "valid" if signature["valid"] else "INVALID"
        lines.append(f"  {_signer_text(signature)}: {status}")
    missing = summary["missing_signers"]
    lines.append(
        "missing signers: " + (", ".join(_signer_text(s) for s in missing) if missing else "none")
    )
    return "\n".join(lines)


def _import_cordapp(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise CommandError(f"cannot import CorDapp module {module!r}: {exc}") from exc


def _party_names(tx: WireTransaction) -> dict[PublicKey, str]:
    """Names of the well-known parties the transaction mentions, to label signing keys."""
    parties: list[Party] = [] if tx.notary is None else [tx.notary]
    for state in tx.outputs:
        parties.append(state.notary)
        parties += [value for value in _walk(state.data) if isinstance(value, Party)]
    return {party.owning_key: str(party) for party in parties}


def _walk(value: object) -> list[object]:
    """`value` and every value nested in its model fields and containers."""
    found = [value]
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found += _walk(getattr(value, name))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found += _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += _walk(item)
    return found


def _signer(key: PublicKey, names: dict[PublicKey, str]) -> Summary:
    return {"key": key.to_string(), "fingerprint": str(key.fingerprint), "party": names.get(key)}


def _signer_text(signer: Summary) -> str:
    """A key by the party it belongs to when the transaction names one, else by fingerprint."""
    short = signer["fingerprint"][:12]
    return f"{signer['party']} ({short})" if signer["party"] else f"key {short}"


def _window(window: TimeWindow) -> Summary:
    return {
        "from": None if window.from_time is None else window.from_time.isoformat(),
        "until": None if window.until_time is None else window.until_time.isoformat(),
    }


def _fields(model: BaseModel) -> Summary:
    return {name: _plain(getattr(model, name)) for name in type(model).model_fields}


def _plain(value: object) -> Any:
    """A ledger value as JSON-ready data; types without a text form of their own use `str`."""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PublicKey):
        return value.to_string()
    if isinstance(value, AbstractParty | StateRef):
        return str(value)
    if isinstance(value, BaseModel):
        return {"type": _type_name(value), **_fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _type_name(value: object) -> str:
    """A nested model need not be registered: pydantic may have built it from a plain map."""
    try:
        return type_name_of(type(value))
    except EncodingError:
        return type(value).__qualname__


def _text(value: object) -> str:
    """Strings as they are, anything structured as compact JSON so it stays on one line."""
    return value if isinstance(value, str) else json.dumps(value)


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title} ({len(items)}):", *(f"  {item}" for item in items)]
