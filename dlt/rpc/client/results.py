"""What the client's calls return: frozen dataclasses mirroring the protocol's messages, with
datetimes and enums instead of protobuf types, and `as_json` to print them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from dlt.encoding import decode


class FlowStatus(enum.StrEnum):
    """Where a flow stands; the values of the node's own `dlt.flows.storage.FlowStatus`.

    Defined here rather than imported so that the client, and every `dlt` command, loads
    neither SQLAlchemy nor the node's engine just to talk to a node.
    """

    RUNNABLE = "runnable"
    HOSPITALISED = "hospitalised"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"


class StateStatus(enum.StrEnum):
    """Whether a state is spent (`ALL` for queries); the values of `dlt.vault.StateStatus`."""

    UNCONSUMED = "unconsumed"
    CONSUMED = "consumed"
    ALL = "all"


@dataclass(frozen=True)
class LedgerValue:
    """A ledger object: its type name, the node's JSON rendering, and its canonical bytes."""

    type_name: str
    data: Any
    encoded: bytes = field(repr=False)

    def decode(self) -> Any:
        """The exact object, rebuilt from its canonical encoding; the CorDapp defining its
        types must be imported (decoding constructs registered types only)."""
        return decode(self.encoded)


@dataclass(frozen=True)
class FlowInfo:
    flow_id: str
    flow_name: str
    status: FlowStatus
    arguments: Any
    peer: str | None
    started_at: datetime
    updated_at: datetime
    result: LedgerValue | None
    error_type: str | None
    error_message: str | None


@dataclass(frozen=True)
class VaultStateInfo:
    ref: str
    state_type: str
    contract: str
    notary: str
    status: StateStatus
    recorded_at: datetime
    consumed_at: datetime | None
    consuming_tx: str | None
    lock_id: str | None
    state: LedgerValue

    @property
    def data(self) -> Any:
        """The state's own fields, as rendered by the node."""
        return self.state.data.get("data") if isinstance(self.state.data, dict) else None


@dataclass(frozen=True)
class VaultPage:
    states: tuple[VaultStateInfo, ...]
    total_states_available: int
    page_number: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page_number * self.page_size < self.total_states_available


@dataclass(frozen=True)
class TransactionInfo:
    id: str
    transaction: LedgerValue


@dataclass(frozen=True)
class TransactionPage:
    transactions: tuple[TransactionInfo, ...]
    total: int
    page_number: int
    page_size: int


@dataclass(frozen=True)
class PeerInfo:
    name: str
    owning_key: str
    fingerprint: str
    addresses: tuple[str, ...]
    rpc_address: str | None
    platform_version: int
    serial: int


@dataclass(frozen=True)
class NotaryServiceInfo:
    name: str
    owning_key: str
    fingerprint: str
    validating: bool
    replicas: tuple[str, ...] = ()
    """X.500 names of the service's replica nodes."""


@dataclass(frozen=True)
class NetworkMapInfo:
    peers: tuple[PeerInfo, ...]
    notaries: tuple[NotaryServiceInfo, ...]
    epoch: int
    parameters_hash: str
    minimum_platform_version: int


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    size: int
    filename: str | None
    uploader: str | None


def as_json(value: object) -> Any:
    """A result of this client as JSON data, for `--json` output: ledger values as their
    type and rendering (not their bytes), datetimes in ISO 8601, enums by value."""
    if isinstance(value, LedgerValue):
        return {"type": value.type_name, "value": value.data}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    return value
