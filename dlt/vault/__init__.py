"""The node's vault: transactions, states, attachments and identities in SQL (SQLAlchemy 2)."""

from dlt.vault.attachment_store import (
    AttachmentInfo,
    SqlAttachmentStorage,
    count_attachments,
    list_attachments,
    load_attachment,
    store_attachment,
)
from dlt.vault.custom_schemas import StateSchema, register_state_schema, state_schema
from dlt.vault.database import Database, DatabaseError, metadata, sqlite_url
from dlt.vault.errors import (
    IdentityConflictError,
    InsufficientStatesError,
    StateSchemaError,
    StatesNotAvailableError,
    VaultError,
    VaultFeedOverflowError,
    VaultQueryError,
)
from dlt.vault.feed import VaultFeed, VaultSubscription, VaultUpdate
from dlt.vault.identity_store import (
    all_parties,
    certificate_chain,
    party_from_key,
    party_from_name,
    register_identity,
)
from dlt.vault.ledger_lookup import SessionLedgerLookup
from dlt.vault.post_commit import on_commit
from dlt.vault.query import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    CustomColumn,
    CustomColumnCriteria,
    Direction,
    Operator,
    Page,
    PageSpecification,
    QueryCriteria,
    SoftLocking,
    Sort,
    SortKey,
    StandardColumn,
    StateMetadata,
    VaultQueryCriteria,
)
from dlt.vault.query_sql import query_states
from dlt.vault.schema import StateStatus, UtcTimestamp, utc_now
from dlt.vault.transaction_store import (
    count_transactions,
    list_transactions,
    load_transaction,
    store_transaction,
    store_transactions,
)
from dlt.vault.vault_service import VaultService

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AttachmentInfo",
    "CustomColumn",
    "CustomColumnCriteria",
    "Database",
    "DatabaseError",
    "Direction",
    "IdentityConflictError",
    "InsufficientStatesError",
    "Operator",
    "Page",
    "PageSpecification",
    "QueryCriteria",
    "SessionLedgerLookup",
    "SoftLocking",
    "Sort",
    "SortKey",
    "SqlAttachmentStorage",
    "StandardColumn",
    "StateMetadata",
    "StateSchema",
    "StateSchemaError",
    "StateStatus",
    "StatesNotAvailableError",
    "UtcTimestamp",
    "VaultError",
    "VaultFeed",
    "VaultFeedOverflowError",
    "VaultQueryCriteria",
    "VaultQueryError",
    "VaultService",
    "VaultSubscription",
    "VaultUpdate",
    "all_parties",
    "certificate_chain",
    "count_attachments",
    "count_transactions",
    "list_attachments",
    "list_transactions",
    "load_attachment",
    "load_transaction",
    "metadata",
    "on_commit",
    "party_from_key",
    "party_from_name",
    "query_states",
    "register_identity",
    "register_state_schema",
    "sqlite_url",
    "state_schema",
    "store_attachment",
    "store_transaction",
    "store_transactions",
    "utc_now",
]
