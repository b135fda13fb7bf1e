"""Node objects as protocol messages and back: timestamps, parties, peers, flows, ledger values.

Text the caller sent that names something (a flow state, a hash) is refused with
INVALID_ARGUMENT saying what it should have been.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from dlt.crypto import SecureHash
from dlt.encoding import DecodingError, EncodingError, decode, encode
from dlt.flows.storage import FlowRecord, FlowStatus
from dlt.identity import Party
from dlt.ledger import SignedTransaction
from dlt.node.node_info import NodeInfo
from dlt.rpc import render
from dlt.rpc.generated import node_pb2
from dlt.rpc.server.errors import Refusal
from dlt.vault import StateStatus

FLOW_STATES: dict[FlowStatus, int] = {
    FlowStatus.RUNNABLE: node_pb2.FLOW_STATE_RUNNABLE,
    FlowStatus.HOSPITALISED: node_pb2.FLOW_STATE_HOSPITALISED,
    FlowStatus.COMPLETED: node_pb2.FLOW_STATE_COMPLETED,
    FlowStatus.FAILED: node_pb2.FLOW_STATE_FAILED,
    FlowStatus.KILLED: node_pb2.FLOW_STATE_KILLED,
}
FLOW_STATUSES: dict[int, FlowStatus] = {v: k for k, v in FLOW_STATES.items()}

STATE_STATUS_VALUES: dict[StateStatus, int] = {
    StateStatus.UNCONSUMED: node_pb2.STATE_STATUS_UNCONSUMED,
    StateStatus.CONSUMED: node_pb2.STATE_STATUS_CONSUMED,
}


def flow_status(state: int) -> FlowStatus:
    """The engine's status for a protocol flow state; unknown states are refused."""
    status = FLOW_STATUSES.get(state)
    if status is None:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"unknown flow state {state}")
    return status


def secure_hash(text: str, what: str) -> SecureHash:
    """The hash written as `text`; refused naming `what` it was meant to be."""
    try:
        return SecureHash.parse(text.strip().lower())
    except ValueError as exc:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, f"bad {what}: {exc}") from exc


def ledger_value(
    value: object, describe: render.DescribeKey, encoded: bytes | None = None
) -> node_pb2.LedgerValue:
    """`value` rendered as JSON (signers labelled by `describe`) with its canonical bytes;
    `encoded` when given, else encoded here (empty when it has no canonical encoding)."""
    if isinstance(value, SignedTransaction):
        rendered = render.transaction_json(value, describe)
    else:
        rendered = render.to_json(value)
    if encoded is None:
        try:
            encoded = encode(value)
        except EncodingError:
            encoded = b""
    return node_pb2.LedgerValue(
        type_name=render.type_name(value), json=json.dumps(rendered), encoded=encoded
    )


def transaction(
    stx: SignedTransaction, describe: render.DescribeKey, data: bytes | None = None
) -> node_pb2.Transaction:
    """The transaction with its stored bytes when we have them: they are what was hashed
    and signed, so they are sent as they are rather than encoded again."""
    return node_pb2.Transaction(id=str(stx.id), transaction=ledger_value(stx, describe, data))


def flow_info(record: FlowRecord, describe: render.DescribeKey) -> node_pb2.FlowInfo:
    """A flow's stored record; a result the node cannot decode is sent as a readable note."""
    info = node_pb2.FlowInfo(
        flow_id=record.flow_id,
        flow_name=record.flow_name,
        state=FLOW_STATES[record.status],
        arguments_json=record.arguments or "",
        peer=record.peer or "",
        started_at=timestamp_from_micros(record.started_at),
        updated_at=timestamp_from_micros(record.updated_at),
        error_type=record.error_type or "",
        error_message=record.error_message or "",
    )
    if record.result is not None:
        try:
            result = decode(record.result)
        except DecodingError as exc:
            info.result.CopyFrom(
                node_pb2.LedgerValue(
                    type_name="undecodable",
                    json=json.dumps(f"the node cannot decode this result: {exc}"),
                    encoded=record.result,
                )
            )
        else:
            if result is not None:
                info.result.CopyFrom(ledger_value(result, describe, record.result))
    return info


def party_info(party: Party) -> node_pb2.PartyInfo:
    return node_pb2.PartyInfo(
        name=str(party.name),
        owning_key=party.owning_key.to_string(),
        fingerprint=str(party.owning_key.fingerprint),
    )


def peer(info: NodeInfo) -> node_pb2.Peer:
    return node_pb2.Peer(
        identity=party_info(info.legal_identity),
        addresses=list(info.addresses),
        rpc_address=info.rpc_address or "",
        platform_version=info.platform_version,
        serial=info.serial,
    )


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def timestamp_from_micros(micros: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(micros)
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)
