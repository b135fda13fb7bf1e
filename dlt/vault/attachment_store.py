"""Attachments in the node's database: the SQL implementation of `AttachmentStorage`.

Session-level functions work inside a unit of work or a read; `SqlAttachmentStorage` wraps
them for callers on worker threads (never the event loop, never inside a unit of work).
Importing the same bytes again merges their signatures, as `InMemoryAttachmentStorage` does.

Loaded attachments are cached per database: their bytes never change, and their signatures
change only through `store_attachment`, which runs on the database's one writer thread, drops
the cached copy when it merges new ones, and keeps that writer's session from caching what it
has not committed yet. Readers (where transactions are verified) add what they load as well,
unless the attachment is one whose signatures a writer changed and their row is not what that
writer last committed: a read that began before the change would otherwise cache the old
signatures.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dlt.crypto import PublicKey, SecureHash
from dlt.encoding import DecodingError, decode, encode
from dlt.ledger import Attachment, AttachmentSignature
from dlt.vault.database import Database
from dlt.vault.post_commit import on_commit
from dlt.vault.query import PageSpecification
from dlt.vault.schema import attachments, utc_now


@dataclass(frozen=True)
class AttachmentInfo:
    """An attachment's listing entry, without its content."""

    id: SecureHash
    size: int
    signers: frozenset[PublicKey]
    uploaded_at: datetime
    uploader: str | None
    filename: str | None


CACHED_ATTACHMENTS = 256
"""Per database; a node's transactions reference a few contract and rules attachments."""
TRACKED_CHANGES = 4096
"""Attachments whose signature changes a cache follows for its readers; past that many, readers
stop adding to it (writers still do), which keeps the record bounded and the cache correct."""

_WRITTEN = "attachments_written"
"""Session info key: ids stored in this session, whose rows may yet roll back."""


class _AttachmentCache:
    def __init__(self) -> None:
        self._items: OrderedDict[SecureHash, Attachment] = OrderedDict()
        self._changed: dict[SecureHash, bytes | None] = {}
        """Attachments a writer changed: the signatures it last committed, None until then."""
        self._readers_add = True
        self._lock = threading.Lock()

    def get(self, attachment_id: SecureHash) -> Attachment | None:
        with self._lock:
            found = self._items.get(attachment_id)
            if found is not None:
                self._items.move_to_end(attachment_id)
            return found

    def put(self, attachment: Attachment) -> None:
        with self._lock:
            self._put(attachment)

    def _put(self, attachment: Attachment) -> None:
        self._items[attachment.id] = attachment
        while len(self._items) > CACHED_ATTACHMENTS:
            self._items.popitem(last=False)

    def offer(self, attachment: Attachment, signatures: bytes) -> None:
        """A reader's copy, loaded with the stored `signatures`: kept unless a writer changed
        them since and has not committed exactly these."""
        with self._lock:
            known = self._changed.get(attachment.id, signatures)
            if self._readers_add and known == signatures:
                self._put(attachment)

    def changing(self, attachment_id: SecureHash) -> None:
        """A writer is about to change the attachment's row: drop it, refuse readers' copies."""
        with self._lock:
            self._items.pop(attachment_id, None)
            if attachment_id not in self._changed and len(self._changed) >= TRACKED_CHANGES:
                self._readers_add = False
                self._changed.clear()
            if self._readers_add:
                self._changed[attachment_id] = None

    def committed(self, attachment_id: SecureHash, signatures: bytes) -> None:
        """The writer's change is durable: readers holding these signatures may add again."""
        with self._lock:
            if self._readers_add:
                self._changed[attachment_id] = signatures


_caches: weakref.WeakKeyDictionary[Engine, _AttachmentCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_of(session: Session) -> tuple[_AttachmentCache, bool]:
    """The cache of the session's database, and whether the session is the writer's."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _AttachmentCache()
    writer = not isinstance(bind, Engine) and bool(bind.info.get("writer"))
    return cache, writer


def _encode_signatures(signatures: tuple[AttachmentSignature, ...]) -> bytes:
    return encode([{"by": sig.by, "signature": sig.signature} for sig in signatures])


def _decode_signatures(data: bytes) -> tuple[AttachmentSignature, ...]:
    entries = decode(data, list)
    signatures = []
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("by"), PublicKey)
            and isinstance(entry.get("signature"), bytes)
        ):
            raise DecodingError("a stored attachment signature is malformed")
        signatures.append(AttachmentSignature(entry["by"], entry["signature"]))
    return tuple(signatures)


def store_attachment(
    session: Session,
    attachment: Attachment,
    *,
    uploader: str | None = None,
    filename: str | None = None,
    uploaded_at: datetime | None = None,
) -> SecureHash:
    """Store `attachment`, or merge its signatures into the stored copy; returns its id."""
    key = str(attachment.id)
    session.info.setdefault(_WRITTEN, set()).add(attachment.id)
    row = session.execute(
        select(attachments.c.signatures).where(attachments.c.id == key)
    ).one_or_none()
    if row is None:
        session.execute(
            insert(attachments).values(
                id=key,
                data=attachment.data,
                signatures=_encode_signatures(attachment.signatures),
                uploaded_at=uploaded_at or utc_now(),
                uploader=uploader,
                filename=filename,
            )
        )
        return attachment.id
    known = _decode_signatures(row.signatures)
    signers = {sig.by for sig in known}
    extra = tuple(sig for sig in attachment.signatures if sig.by not in signers)
    if extra:
        # The one change to a stored attachment: its cached copies must go, and readers'
        # copies loaded before the change commits must not come back.
        merged = _encode_signatures(known + extra)
        cache, _ = _cache_of(session)
        cache.changing(attachment.id)
        session.execute(
            update(attachments).where(attachments.c.id == key).values(signatures=merged)
        )
        on_commit(session, lambda: cache.committed(attachment.id, merged))
    return attachment.id


def load_attachment(session: Session, attachment_id: SecureHash) -> Attachment | None:
    """The attachment with its signatures (checked when first loaded), or None."""
    cache, writer = _cache_of(session)
    cached = cache.get(attachment_id)
    if cached is not None:
        return cached
    row = session.execute(
        select(attachments.c.data, attachments.c.signatures).where(
            attachments.c.id == str(attachment_id)
        )
    ).one_or_none()
    if row is None:
        return None
    attachment = Attachment(row.data, _decode_signatures(row.signatures))
    if not writer:
        cache.offer(attachment, row.signatures)
    elif attachment_id not in session.info.get(_WRITTEN, ()):
        cache.put(attachment)
    return attachment


def list_attachments(
    session: Session, paging: PageSpecification | None = None
) -> tuple[AttachmentInfo, ...]:
    """Attachments oldest first (ties by id), without their content."""
    paging = paging or PageSpecification()
    query = (
        select(
            attachments.c.id,
            func.length(attachments.c.data).label("size"),
            attachments.c.signatures,
            attachments.c.uploaded_at,
            attachments.c.uploader,
            attachments.c.filename,
        )
        .order_by(attachments.c.uploaded_at, attachments.c.id)
        .limit(paging.page_size)
        .offset(paging.offset)
    )
    return tuple(
        AttachmentInfo(
            id=SecureHash.parse(row.id),
            size=int(row.size),
            signers=frozenset(sig.by for sig in _decode_signatures(row.signatures)),
            uploaded_at=row.uploaded_at,
            uploader=row.uploader,
            filename=row.filename,
        )
        for row in session.execute(query)
    )


def count_attachments(session: Session) -> int:
    return session.execute(select(func.count()).select_from(attachments)).scalar_one()


class SqlAttachmentStorage:
    """`dlt.ledger.AttachmentStorage` over the database, for worker threads.

    Each call is its own unit of work or read; inside a unit of work use the session-level
    functions instead (a unit of work waiting for another one would wait forever).
    """

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    def import_attachment(
        self, attachment: Attachment, *, uploader: str | None = None, filename: str | None = None
    ) -> SecureHash:
        uploaded_at = self._clock()
        return self._db.write_sync(
            lambda session: store_attachment(
                session, attachment, uploaded_at=uploaded_at, uploader=uploader, filename=filename
            )
        )

    def open_attachment(self, attachment_id: SecureHash) -> Attachment | None:
        return self._db.read_sync(lambda session: load_attachment(session, attachment_id))

    def list_attachments(
        self, paging: PageSpecification | None = None
    ) -> tuple[AttachmentInfo, ...]:
        return self._db.read_sync(lambda session: list_attachments(session, paging))

    def count(self) -> int:
        return self._db.read_sync(count_attachments)
