"""Applying transactions to the vault: new relevant outputs in, spent inputs marked consumed.

Every step is a batched statement (one per table, or per 500 keys), whatever the number of
transactions and states. Recording is idempotent: states already tracked are not added again
and states already consumed are not consumed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from dlt.crypto import PublicKey
from dlt.encoding import type_name_of
from dlt.ledger import ComponentGroup, SignedTransaction, StateAndRef, StateRef, TransactionState
from dlt.vault.custom_schemas import schema_for
from dlt.vault.feed import VaultUpdate
from dlt.vault.query_sql import REF_IN, STATE_COLUMNS, ref_params, state_and_ref
from dlt.vault.schema import StateStatus, chunks, state_participants, states
from dlt.vault.transaction_store import store_transactions

# Built once and reused with parameters: no per-call construction or cache-key generation.
_TRACKED = select(states.c.txhash, states.c.output_index).where(REF_IN)
_UNCONSUMED = select(*STATE_COLUMNS).where(REF_IN, states.c.status == StateStatus.UNCONSUMED)
_CONSUME = (
    update(states)
    .where(
        states.c.txhash == bindparam("ref_txhash"),
        states.c.output_index == bindparam("ref_index"),
    )
    .values(
        status=StateStatus.CONSUMED,
        consumed_at=bindparam("now"),
        consuming_tx=bindparam("consuming"),
        lock_id=None,
        lock_time=None,
    )
)
_INSERT_STATES = insert(states)
_INSERT_PARTICIPANTS = insert(state_participants)


@dataclass(frozen=True)
class _Output:
    sar: StateAndRef
    encoded: bytes


def is_relevant(state: TransactionState, our_keys: frozenset[PublicKey]) -> bool:
    """Whether one of our keys is a participant's owning key, or one of its leaf keys."""
    for party in state.data.participants:
        key = party.owning_key
        if key in our_keys or not our_keys.isdisjoint(key.leaf_keys):
            return True
    return False


def _unique(stxs: Iterable[SignedTransaction]) -> list[SignedTransaction]:
    return list({stx.id: stx for stx in stxs}.values())


def _relevant_outputs(
    stxs: Sequence[SignedTransaction], our_keys: frozenset[PublicKey]
) -> list[_Output]:
    outputs = []
    for stx in stxs:
        encoded = stx.tx.components(ComponentGroup.OUTPUTS)
        for index, state in enumerate(stx.tx.outputs):
            if is_relevant(state, our_keys):
                sar = StateAndRef(state=state, ref=StateRef(txhash=stx.id, index=index))
                outputs.append(_Output(sar, encoded[index]))
    return outputs


def _tracked(session: Session, refs: Sequence[StateRef]) -> set[StateRef]:
    found: set[StateRef] = set()
    for chunk in chunks(refs):
        rows = session.execute(_TRACKED, ref_params(chunk))
        found.update(StateRef(txhash=r.txhash, index=r.output_index) for r in rows)
    return found


def _insert_outputs(session: Session, outputs: Sequence[_Output], now: datetime) -> None:
    state_rows: list[dict[str, Any]] = []
    participant_rows: list[dict[str, Any]] = []
    custom_rows: dict[Table, list[dict[str, Any]]] = {}
    for output in outputs:
        ref, state = output.sar.ref, output.sar.state
        key = {"txhash": str(ref.txhash), "output_index": ref.index}
        state_rows.append(
            {
                **key,
                "state_type": type_name_of(type(state.data)),
                "contract": state.contract,
                "notary_name": str(state.notary.name),
                "notary_key": str(state.notary.owning_key.fingerprint),
                "status": StateStatus.UNCONSUMED,
                "recorded_at": now,
                "data": output.encoded,
            }
        )
        fingerprints = {str(p.owning_key.fingerprint) for p in state.data.participants}
        participant_rows.extend({**key, "key": fp} for fp in sorted(fingerprints))
        schema = schema_for(type(state.data))
        if schema is not None:
            custom_rows.setdefault(schema.table, []).append({**key, **schema.values(state.data)})
    session.execute(_INSERT_STATES, state_rows)
    if participant_rows:
        session.execute(_INSERT_PARTICIPANTS, participant_rows)
    for table, rows in custom_rows.items():
        session.execute(insert(table), rows)


def _consume(
    session: Session, stxs: Sequence[SignedTransaction], now: datetime
) -> list[StateAndRef]:
    consumer = {ref: stx.id for stx in stxs for ref in stx.tx.inputs}
    if not consumer:
        return []
    rows: list[Row[Any]] = []
    for chunk in chunks(list(consumer)):
        rows.extend(session.execute(_UNCONSUMED, ref_params(chunk)))
    consumed = [state_and_ref(row) for row in rows]
    if consumed:
        session.execute(
            _CONSUME,
            [
                {
                    "ref_txhash": str(sar.ref.txhash),
                    "ref_index": sar.ref.index,
                    "consuming": str(consumer[sar.ref]),
                    "now": now,
                }
                for sar in consumed
            ],
        )
    return consumed


def record_transactions(
    session: Session,
    stxs: Iterable[SignedTransaction],
    our_keys: frozenset[PublicKey],
    now: datetime,
) -> VaultUpdate:
    """Store `stxs`, track their outputs relevant to `our_keys`, consume the inputs we hold.

    Transactions may come in any order within the batch; a state produced and consumed in
    the same batch appears in both halves of the update.
    """
    received = list(stxs)
    if not received:
        return VaultUpdate()
    store_transactions(session, received, now)
    unique = _unique(received)
    candidates = _relevant_outputs(unique, our_keys)
    tracked = _tracked(session, [output.sar.ref for output in candidates])
    new = [output for output in candidates if output.sar.ref not in tracked]
    if new:
        _insert_outputs(session, new, now)
    consumed = _consume(session, unique, now)
    return VaultUpdate(produced=tuple(output.sar for output in new), consumed=tuple(consumed))
