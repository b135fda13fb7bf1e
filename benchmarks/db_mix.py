"""CPU per flow-like unit of database work, on a real SQLite file (no network, seconds to run).

One unit mimics a party's side of a DvP trade through `Database`: insert the flow, journal +
coin-select-and-lock, journal alone, read the input's transaction, journal + record the move,
journal + complete and release locks, read the flow back. Several asyncio tasks run units at
once so the writer group-commits. CPU is `time.process_time` over the whole process (event
loop, writer and readers), after a warm-up.

    .venv/bin/python -m benchmarks.db_mix [--units 600] [--tasks 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fixtures.token_schema  # noqa: F401 - TokenState's columns, before tables exist
from dlt.flows import storage
from dlt.flows.storage import FlowStatus, JournalEntry
from dlt.ledger import SignedTransaction, StateAndRef, StateRef
from dlt.vault import (
    Database,
    VaultQueryCriteria,
    VaultService,
    VaultUpdate,
    sqlite_url,
)
from dlt.vault.schema import utc_now
from dlt.vault.transaction_store import load_transaction
from fixtures.ledger import ALICE, BOB
from fixtures.vault import issuance, move, outputs_of
from sample_cordapp import TokenState

PAYLOAD = b"x" * 600
WARM_UP = 40


def prepare(units: int) -> tuple[list[SignedTransaction], dict[StateRef, SignedTransaction]]:
    """A coin per unit, and the signed move spending each (signing is not what we measure)."""
    issued = [issuance(ALICE, 100) for _ in range(units)]
    moves = {
        sar.ref: move([sar], [(BOB, 60), (ALICE, 40)], [ALICE])
        for stx in issued
        for sar in outputs_of(stx)
    }
    return issued, moves


async def one_unit(
    db: Database,
    vault: VaultService,
    flow_id: str,
    moves: dict[StateRef, SignedTransaction],
    coins_before: datetime,
) -> None:
    await db.write(
        lambda s: storage.insert_flow(s, flow_id=flow_id, flow_name="Dvp", arguments="{}")
    )
    criteria = VaultQueryCriteria(state_types=(TokenState,), recorded_before=coins_before)

    def lock(session: Session) -> list[StateAndRef]:
        storage.append_journal(session, flow_id, [JournalEntry(0, "select", PAYLOAD)])
        return vault.select_and_lock(session, flow_id, criteria, enough=lambda p: len(p) >= 1)

    coin = (await db.write(lock))[0].ref
    entry = JournalEntry(1, "send", PAYLOAD)
    await db.write(lambda s: storage.append_journal(s, flow_id, [entry]))
    await db.read(lambda s: load_transaction(s, coin.txhash))

    def record(session: Session) -> VaultUpdate:
        storage.append_journal(session, flow_id, [JournalEntry(2, "receive", PAYLOAD)])
        return vault.record_transactions(session, [moves[coin]])

    await db.write(record)

    def finish(session: Session) -> None:
        storage.append_journal(session, flow_id, [JournalEntry(3, "result", PAYLOAD)])
        storage.set_status(session, flow_id, FlowStatus.COMPLETED, result=b"ok")
        vault.soft_lock_release(session, flow_id)

    await db.write(finish)
    await db.read(lambda s: storage.get_flow(s, flow_id))


async def run(units: int, tasks: int) -> tuple[int, float, float]:
    """(units measured, CPU seconds, wall seconds) after a warm-up of WARM_UP units."""
    issued, moves = prepare(units + WARM_UP)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(sqlite_url(Path(tmp) / "bench.db"))
        try:
            db.create_tables()
            vault = VaultService(db, lambda: [ALICE.public_key])
            await vault.record(issued)
            coins_before = utc_now()
            ids = iter(range(units + WARM_UP))

            async def worker(count: int) -> None:
                for _ in range(count):
                    await one_unit(db, vault, f"flow-{next(ids):06d}", moves, coins_before)

            await asyncio.gather(*(worker(WARM_UP // tasks) for _ in range(tasks)))
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(units // tasks) for _ in range(tasks)))
            return (
                units // tasks * tasks,
                time.process_time() - cpu,
                time.perf_counter() - wall,
            )
        finally:
            db.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--tasks", type=int, default=4)
    args = parser.parse_args(argv)
    done, cpu, wall = asyncio.run(run(args.units, args.tasks))
    print(
        f"units={done} tasks={args.tasks} cpu/unit={1e3 * cpu / done:.3f} ms "
        f"wall/unit={1e3 * wall / done:.3f} ms"
    )


if __name__ == "__main__":
    main()
