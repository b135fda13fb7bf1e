"""Protocol messages as the client's results, and the client's values as protocol fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from google.protobuf.timestamp_pb2 import Timestamp

from dlt.rpc.client.results import (
    FlowInfo,
    FlowStatus,
    LedgerValue,
    PeerInfo,
    StateStatus,
    TransactionInfo,
    VaultStateInfo,
)
from dlt.rpc.generated import node_pb2

FLOW_STATUS: Final[dict[int, FlowStatus]] = {
    node_pb2.FLOW_STATE_RUNNABLE: FlowStatus.RUNNABLE,
    node_pb2.FLOW_STATE_HOSPITALISED: FlowStatus.HOSPITALISED,
    node_pb2.FLOW_STATE_COMPLETED: FlowStatus.COMPLETED,
    node_pb2.FLOW_STATE_FAILED: FlowStatus.FAILED,
    node_pb2.FLOW_STATE_KILLED: FlowStatus.KILLED,
}
FLOW_STATE: Final[dict[FlowStatus, int]] = {v: k for k, v in FLOW_STATUS.items()}

STATE_STATUS: Final[dict[int, StateStatus]] = {
    node_pb2.STATE_STATUS_UNCONSUMED: StateStatus.UNCONSUMED,
    node_pb2.STATE_STATUS_CONSUMED: StateStatus.CONSUMED,
    node_pb2.STATE_STATUS_ALL: StateStatus.ALL,
}
STATE_STATUS_VALUE: Final[dict[StateStatus, int]] = {v: k for k, v in STATE_STATUS.items()}


def ledger_value(value: node_pb2.LedgerValue) -> LedgerValue:
    return LedgerValue(
        type_name=value.type_name,
        data=json.loads(value.json) if value.json else None,
        encoded=value.encoded,
    )


def optional_value(message: Any, name: str) -> LedgerValue | None:
    return ledger_value(getattr(message, name)) if message.HasField(name) else None


def flow_info(info: node_pb2.FlowInfo) -> FlowInfo:
    return FlowInfo(
        flow_id=info.flow_id,
        flow_name=info.flow_name,
        status=FLOW_STATUS.get(info.state, FlowStatus.RUNNABLE),
        arguments=json.loads(info.arguments_json) if info.arguments_json else None,
        peer=info.peer or None,
        started_at=to_datetime(info.started_at),
        updated_at=to_datetime(info.updated_at),
        result=optional_value(info, "result"),
        error_type=info.error_type or None,
        error_message=info.error_message or None,
    )


def vault_state(state: node_pb2.VaultState) -> VaultStateInfo:
    return VaultStateInfo(
        ref=state.ref,
        state_type=state.state_type,
        contract=state.contract,
        notary=state.notary,
        status=STATE_STATUS.get(state.status, StateStatus.UNCONSUMED),
        recorded_at=to_datetime(state.recorded_at),
        consumed_at=to_datetime(state.consumed_at) if state.HasField("consumed_at") else None,
        consuming_tx=state.consuming_tx or None,
        lock_id=state.lock_id or None,
        state=ledger_value(state.state),
    )


def transaction(tx: node_pb2.Transaction) -> TransactionInfo:
    return TransactionInfo(id=tx.id, transaction=ledger_value(tx.transaction))


def peer(peer: node_pb2.Peer) -> PeerInfo:
    return PeerInfo(
        name=peer.identity.name,
        owning_key=peer.identity.owning_key,
        fingerprint=peer.identity.fingerprint,
        addresses=tuple(peer.addresses),
        rpc_address=peer.rpc_address or None,
        platform_version=peer.platform_version,
        serial=peer.serial,
    )


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)
