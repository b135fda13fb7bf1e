"""Signed transactions by id, inside a unit of work or a read.

Recording is idempotent: a transaction already stored keeps one row, and signatures that
arrive later (the notary's, a counterparty's) are merged into it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from dlt.crypto import SecureHash
from dlt.encoding import decode, encode
from dlt.ledger import SignedTransaction
from dlt.vault.query import PageSpecification
from dlt.vault.schema import chunks, transactions, utc_now

# Built once and reused with parameters: no per-call construction or cache-key generation.
_LOAD_ENCODED = select(transactions.c.id, transactions.c.data).where(
    transactions.c.id.in_(bindparam("ids", expanding=True))
)
_LOAD_ONE = select(transactions.c.data).where(transactions.c.id == bindparam("key"))
_KNOWN = select(transactions.c.id).where(transactions.c.id.in_(bindparam("ids", expanding=True)))
_INSERT = insert(transactions)
_UPDATE_DATA = (
    update(transactions)
    .where(transactions.c.id == bindparam("tx_id"))
    .values(data=bindparam("new_data"))
)


def _merged(stxs: Iterable[SignedTransaction]) -> dict[SecureHash, SignedTransaction]:
    merged: dict[SecureHash, SignedTransaction] = {}
    for stx in stxs:
        known = merged.get(stx.id)
        merged[stx.id] = stx if known is None else known.with_signatures(*stx.sigs)
    return merged


def load_encoded(session: Session, ids: Iterable[SecureHash]) -> dict[SecureHash, bytes]:
    """The stored encodings of those of `ids` that are stored, in batched queries."""
    found: dict[SecureHash, bytes] = {}
    for chunk in chunks([str(tx_id) for tx_id in ids]):
        rows = session.execute(_LOAD_ENCODED, {"ids": list(chunk)})
        found.update((SecureHash.parse(row.id), row.data) for row in rows)
    return found


def stored_ids(session: Session, ids: Iterable[SecureHash]) -> set[SecureHash]:
    """Those of `ids` that are stored, read from the index alone: nothing is decoded."""
    found: set[SecureHash] = set()
    for chunk in chunks([str(tx_id) for tx_id in ids]):
        found.update(
            SecureHash.parse(row.id) for row in session.execute(_KNOWN, {"ids": list(chunk)})
        )
    return found


def store_transactions(
    session: Session, stxs: Iterable[SignedTransaction], recorded_at: datetime | None = None
) -> tuple[SecureHash, ...]:
    """Store `stxs`, merging signatures into those already stored; returns the new ids."""
    merged = _merged(stxs)
    if not merged:
        return ()
    recorded_at = recorded_at or utc_now()
    stored = load_encoded(session, merged)
    new_rows = [
        {"id": str(tx_id), "data": encode(stx), "recorded_at": recorded_at}
        for tx_id, stx in merged.items()
        if tx_id not in stored
    ]
    changed_rows = []
    for tx_id, data in stored.items():
        known = decode(data, SignedTransaction)
        combined = known.with_signatures(*merged[tx_id].sigs)
        if len(combined.sigs) != len(known.sigs):
            changed_rows.append({"tx_id": str(tx_id), "new_data": encode(combined)})
    if new_rows:
        session.execute(_INSERT, new_rows)
    if changed_rows:
        session.execute(_UPDATE_DATA, changed_rows)
    return tuple(tx_id for tx_id in merged if tx_id not in stored)


def store_transaction(
    session: Session, stx: SignedTransaction, recorded_at: datetime | None = None
) -> bool:
    """Store one transaction; True if it was not stored before."""
    return bool(store_transactions(session, [stx], recorded_at))


def load_transaction(session: Session, tx_id: SecureHash) -> SignedTransaction | None:
    data = session.execute(_LOAD_ONE, {"key": str(tx_id)}).scalar_one_or_none()
    return None if data is None else decode(data, SignedTransaction)


def list_transactions(
    session: Session, paging: PageSpecification | None = None
) -> tuple[SignedTransaction, ...]:
    """Stored transactions, oldest first (ties by id), one page at a time."""
    paging = paging or PageSpecification()
    query = (
        select(transactions.c.data)
        .order_by(transactions.c.recorded_at, transactions.c.id)
        .limit(paging.page_size)
        .offset(paging.offset)
    )
    return tuple(decode(data, SignedTransaction) for data in session.execute(query).scalars())


def count_transactions(session: Session) -> int:
    return session.execute(select(func.count()).select_from(transactions)).scalar_one()
