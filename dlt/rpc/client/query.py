"""What to ask a node's vault: the optional parts of a query, as the protocol's request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dlt.rpc.client.convert import STATE_STATUS_VALUE, timestamp
from dlt.rpc.client.results import StateStatus
from dlt.rpc.generated import node_pb2


@dataclass(frozen=True)
class ColumnCondition:
    """`column operator value` on a custom schema column; `value` is text the node converts
    to the column's type (`in`/`between`: a JSON array or comma-separated list)."""

    column: str
    operator: str
    value: str = ""
    state_type: str = ""


@dataclass(frozen=True)
class SortBy:
    """A standard column (recorded_at, consumed_at, state_type, txhash, output_index,
    lock_time) or a custom column of the queried state type."""

    column: str
    descending: bool = False


@dataclass(frozen=True)
class VaultQuery:
    """What to ask the vault; every part is optional. Page size 0 is the node's default."""

    status: StateStatus = StateStatus.UNCONSUMED
    state_types: Sequence[str] = ()
    participants: Sequence[str] = ()
    notaries: Sequence[str] = ()
    recorded_after: datetime | None = None
    recorded_before: datetime | None = None
    conditions: Sequence[ColumnCondition] = ()
    page_number: int = 1
    page_size: int = 0
    sort: Sequence[SortBy] = ()

    def to_request(self) -> node_pb2.VaultQueryRequest:
        request = node_pb2.VaultQueryRequest(
            status=STATE_STATUS_VALUE[StateStatus(self.status)],
            state_types=list(self.state_types),
            participants=list(self.participants),
            notaries=list(self.notaries),
            conditions=[
                node_pb2.ColumnCondition(
                    state_type=c.state_type, column=c.column, operator=c.operator, value=c.value
                )
                for c in self.conditions
            ],
            page_number=self.page_number,
            page_size=self.page_size,
            sort=[node_pb2.SortKey(column=s.column, descending=s.descending) for s in self.sort],
        )
        if self.recorded_after is not None:
            request.recorded_after.CopyFrom(timestamp(self.recorded_after))
        if self.recorded_before is not None:
            request.recorded_before.CopyFrom(timestamp(self.recorded_before))
        return request
