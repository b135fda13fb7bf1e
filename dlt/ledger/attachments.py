"""Attachments: content-addressed files a transaction references (market rules, contract code)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from dlt.crypto import PrivateKey, PublicKey, SecureHash
from dlt.encoding import register_codec
from dlt.ledger.errors import AttachmentError

_SIGNING_DOMAIN = b"dlt.attachment.v1:"


@dataclass(frozen=True)
class AttachmentSignature:
    """A key's signature over an attachment's id."""

    by: PublicKey
    signature: bytes


class Attachment:
    """Immutable bytes identified by their SHA-256, with optional signatures over that id.

    Signatures are checked when the attachment is built, so `signers` only ever lists keys
    that really signed it.
    """

    def __init__(self, data: bytes, signatures: Iterable[AttachmentSignature] = ()) -> None:
        self._data = bytes(data)
        self._signatures = tuple(signatures)
        for sig in self._signatures:
            if not sig.by.is_valid(sig.signature, self._signed_bytes()):
                raise AttachmentError(
                    f"attachment {self.id}: the signature by {sig.by!r} does not verify"
                )

    @cached_property
    def id(self) -> SecureHash:
        return SecureHash.sha256(self._data)

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def signatures(self) -> tuple[AttachmentSignature, ...]:
        return self._signatures

    @cached_property
    def signers(self) -> frozenset[PublicKey]:
        return frozenset(sig.by for sig in self._signatures)

    def _signed_bytes(self) -> bytes:
        return _SIGNING_DOMAIN + self.id.bytes

    def signed_by(self, key: PrivateKey) -> Attachment:
        """A copy with `key`'s signature added."""
        signature = AttachmentSignature(key.public_key, key.sign(self._signed_bytes()))
        return Attachment(self._data, (*self._signatures, signature))

    def open(self) -> io.BytesIO:
        """The content as a read-only file object."""
        return io.BytesIO(self._data)

    def open_zip(self) -> zipfile.ZipFile:
        """The content as a zip archive (contract code, bundles of documents)."""
        try:
            return zipfile.ZipFile(self.open())
        except zipfile.BadZipFile as exc:
            raise AttachmentError(f"attachment {self.id} is not a zip archive") from exc

    def extract(self, path: str) -> bytes:
        """One file of a zip attachment."""
        with self.open_zip() as archive:
            try:
                return archive.read(path)
            except KeyError as exc:
                raise AttachmentError(f"attachment {self.id} has no file {path!r}") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Attachment) and (self.id, self.signers) == (
            other.id,
            other.signers,
        )

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Attachment({self.id.prefix(12)}, {self.size} bytes)"


class AttachmentStorage(Protocol):
    """Where a node keeps attachments; the vault implements it in SQL."""

    def import_attachment(self, attachment: Attachment) -> SecureHash: ...

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None: ...


class InMemoryAttachmentStorage:
    """Attachments in a dict: for tests and tools that build transactions offline."""

    def __init__(self, attachments: Iterable[Attachment] = ()) -> None:
        self._attachments: dict[SecureHash, Attachment] = {}
        for attachment in attachments:
            self.import_attachment(attachment)

    def import_attachment(self, attachment: Attachment) -> SecureHash:
        """Store it; importing the same bytes again merges their signatures."""
        known = self._attachments.get(attachment.id)
        if known is not None:
            extra = [sig for sig in attachment.signatures if sig.by not in known.signers]
            attachment = Attachment(known.data, (*known.signatures, *extra))
        self._attachments[attachment.id] = attachment
        return attachment.id

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return self._attachments.get(attachment_id)

    def __len__(self) -> int:
        return len(self._attachments)


def _signature_fields(sig: AttachmentSignature) -> dict[str, object]:
    return {"by": sig.by, "signature": sig.signature}


def _signature_from_fields(fields: dict[str, object]) -> AttachmentSignature:
    by, signature = fields["by"], fields["signature"]
    if not isinstance(by, PublicKey) or not isinstance(signature, bytes):
        raise ValueError("an attachment signature is a key and signature bytes")
    return AttachmentSignature(by, signature)


def _attachment_from_fields(fields: dict[str, object]) -> Attachment:
    data, signatures = fields["data"], fields["signatures"]
    if not isinstance(data, bytes) or not isinstance(signatures, list):
        raise ValueError("an attachment is bytes and a list of signatures")
    if not all(isinstance(sig, AttachmentSignature) for sig in signatures):
        raise ValueError("attachment signatures must be AttachmentSignature values")
    try:
        return Attachment(data, signatures)
    except AttachmentError as exc:
        raise ValueError(str(exc)) from exc


register_codec(
    "AttachmentSignature",
    AttachmentSignature,
    ["by", "signature"],
    _signature_fields,
    _signature_from_fields,
)
register_codec(
    "Attachment",
    Attachment,
    ["data", "signatures"],
    lambda a: {"data": a.data, "signatures": list(a.signatures)},
    _attachment_from_fields,
)
