"""Vault columns the benchmark flows and readers select on: a record's key, an account's
customer number (registered on import)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String

from cordapp_bench.states import AccountState, KvRecord
from dlt.vault import StateSchema, register_state_schema

KV_SCHEMA: StateSchema[KvRecord] = register_state_schema(
    KvRecord, "bench_kv_records", columns={"key": String(64)}, extract=lambda r: {"key": r.key}
)
ACCOUNT_SCHEMA: StateSchema[AccountState] = register_state_schema(
    AccountState,
    "bench_accounts",
    columns={"customer": BigInteger},
    extract=lambda a: {"customer": a.customer},
)
