"""The trust premium's baseline: the same DvP trade as one PostgreSQL transaction.

A plain schema holding the same rows the ledger trade creates and consumes: the consumer's
coin is locked and marked spent, the producer's payment, the consumer's change and the
consumer's new energy state are inserted, all in one transaction committed with the same
durability as the ledger's (fsync on, synchronous commit). No signatures, no notary, no
counterparty: what a trusted central operator would do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from benchmarks.drivers.energy import CURRENCY, TRADE_PRICE, TRADE_WH
from benchmarks.loadgen import Context, Driver, WorkloadError
from cordapp_energy.units import energy_cost

SCHEMA = """
CREATE TABLE payment_states (
    id BIGSERIAL PRIMARY KEY,
    issuer TEXT NOT NULL,
    owner TEXT NOT NULL,
    currency CHAR(3) NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    consumed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX payment_states_unspent ON payment_states (owner, currency) WHERE NOT consumed;
CREATE TABLE energy_states (
    id BIGSERIAL PRIMARY KEY,
    energy_type TEXT NOT NULL,
    quantity_wh BIGINT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end TIMESTAMPTZ NOT NULL,
    price_per_kwh BIGINT NOT NULL,
    currency CHAR(3) NOT NULL,
    issuer TEXT NOT NULL,
    owner TEXT NOT NULL,
    consumed BOOLEAN NOT NULL DEFAULT FALSE
);
"""


def create_schema(conninfo: str, bank: str, owners: list[str], coins: int, amount: int) -> None:
    """The schema, and `coins` coins of `amount` for each owner (as the ledger consumers hold)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(SCHEMA)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO payment_states (issuer, owner, currency, amount)"
                " VALUES (%s, %s, %s, %s)",
                [(bank, owner, CURRENCY, amount) for owner in owners for _ in range(coins)],
            )


@dataclass
class SqlDvpDriver(Driver):
    conninfo: str
    pairs: tuple[tuple[str, str], ...]
    """(consumer name, producer name), used in turn."""
    window: datetime
    mix: tuple[tuple[str, int], ...] = (("DvP (SQL)", 1),)
    _connections: dict[int, psycopg.AsyncConnection[tuple[object, ...]]] = field(
        default_factory=dict, init=False
    )

    async def _connection(self, worker: int) -> psycopg.AsyncConnection[tuple[object, ...]]:
        connection = self._connections.get(worker)
        if connection is None:
            connection = await psycopg.AsyncConnection.connect(self.conninfo)
            self._connections[worker] = connection
        return connection

    async def run(
        self, label: str, ctx: Context, rng: random.Random, seq: int, worker: int
    ) -> None:
        consumer, producer = self.pairs[seq % len(self.pairs)]
        cost = energy_cost(TRADE_WH, TRADE_PRICE)
        connection = await self._connection(worker)
        async with connection.transaction():
            coin = await (
                await connection.execute(
                    "SELECT id, issuer, amount FROM payment_states"
                    " WHERE owner = %s AND currency = %s AND NOT consumed AND amount >= %s"
                    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    (consumer, CURRENCY, cost),
                )
            ).fetchone()
            if coin is None:
                raise WorkloadError(f"{consumer} has no coin of {cost} left")
            coin_id, issuer, amount = coin
            await connection.execute(
                "UPDATE payment_states SET consumed = TRUE WHERE id = %s", (coin_id,)
            )
            await connection.execute(
                "INSERT INTO payment_states (issuer, owner, currency, amount)"
                " VALUES (%s, %s, %s, %s)",
                (issuer, producer, CURRENCY, cost),
            )
            if amount > cost:
                await connection.execute(
                    "INSERT INTO payment_states (issuer, owner, currency, amount)"
                    " VALUES (%s, %s, %s, %s)",
                    (issuer, consumer, CURRENCY, amount - cost),
                )
            await connection.execute(
                "INSERT INTO energy_states (energy_type, quantity_wh, window_start, window_end,"
                " price_per_kwh, currency, issuer, owner)"
                " VALUES ('solar', %s, %s, %s + interval '15 minutes', %s, %s, %s, %s)",
                (TRADE_WH, self.window, self.window, TRADE_PRICE, CURRENCY, producer, consumer),
            )

    async def close(self) -> None:
        for connection in self._connections.values():
            await connection.close()
