import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FlowState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLOW_STATE_UNSPECIFIED: _ClassVar[FlowState]
    FLOW_STATE_RUNNABLE: _ClassVar[FlowState]
    FLOW_STATE_HOSPITALISED: _ClassVar[FlowState]
    FLOW_STATE_COMPLETED: _ClassVar[FlowState]
    FLOW_STATE_FAILED: _ClassVar[FlowState]
    FLOW_STATE_KILLED: _ClassVar[FlowState]

class StateStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATE_STATUS_UNSPECIFIED: _ClassVar[StateStatus]
    STATE_STATUS_UNCONSUMED: _ClassVar[StateStatus]
    STATE_STATUS_CONSUMED: _ClassVar[StateStatus]
    STATE_STATUS_ALL: _ClassVar[StateStatus]
FLOW_STATE_UNSPECIFIED: FlowState
FLOW_STATE_RUNNABLE: FlowState
FLOW_STATE_HOSPITALISED: FlowState
FLOW_STATE_COMPLETED: FlowState
FLOW_STATE_FAILED: FlowState
FLOW_STATE_KILLED: FlowState
STATE_STATUS_UNSPECIFIED: StateStatus
STATE_STATUS_UNCONSUMED: StateStatus
STATE_STATUS_CONSUMED: StateStatus
STATE_STATUS_ALL: StateStatus

class LedgerValue(_message.Message):
    __slots__ = ("type_name", "json", "encoded")
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    type_name: str
    json: str
    encoded: bytes
    def __init__(self, type_name: _Optional[str] = ..., json: _Optional[str] = ..., encoded: _Optional[bytes] = ...) -> None: ...

class PartyInfo(_message.Message):
    __slots__ = ("name", "owning_key", "fingerprint")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNING_KEY_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    name: str
    owning_key: str
    fingerprint: str
    def __init__(self, name: _Optional[str] = ..., owning_key: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class StartFlowRequest(_message.Message):
    __slots__ = ("flow_name", "arguments_json")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    arguments_json: str
    def __init__(self, flow_name: _Optional[str] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class FlowEvent(_message.Message):
    __slots__ = ("started", "progress", "completed", "failed")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    started: FlowStarted
    progress: FlowProgress
    completed: FlowCompleted
    failed: FlowFailed
    def __init__(self, started: _Optional[_Union[FlowStarted, _Mapping]] = ..., progress: _Optional[_Union[FlowProgress, _Mapping]] = ..., completed: _Optional[_Union[FlowCompleted, _Mapping]] = ..., failed: _Optional[_Union[FlowFailed, _Mapping]] = ...) -> None: ...

class FlowStarted(_message.Message):
    __slots__ = ("flow_id", "flow_name")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    flow_name: str
    def __init__(self, flow_id: _Optional[str] = ..., flow_name: _Optional[str] = ...) -> None: ...

class FlowProgress(_message.Message):
    __slots__ = ("step",)
    STEP_FIELD_NUMBER: _ClassVar[int]
    step: str
    def __init__(self, step: _Optional[str] = ...) -> None: ...

class FlowCompleted(_message.Message):
    __slots__ = ("flow_id", "result")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    result: LedgerValue
    def __init__(self, flow_id: _Optional[str] = ..., result: _Optional[_Union[LedgerValue, _Mapping]] = ...) -> None: ...

class FlowFailed(_message.Message):
    __slots__ = ("flow_id", "error_type", "message", "state")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    error_type: str
    message: str
    state: FlowState
    def __init__(self, flow_id: _Optional[str] = ..., error_type: _Optional[str] = ..., message: _Optional[str] = ..., state: _Optional[_Union[FlowState, str]] = ...) -> None: ...

class FlowStatusRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class FlowInfo(_message.Message):
    __slots__ = ("flow_id", "flow_name", "state", "arguments_json", "peer", "started_at", "updated_at", "result", "error_type", "error_message")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    flow_name: str
    state: FlowState
    arguments_json: str
    peer: str
    started_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    result: LedgerValue
    error_type: str
    error_message: str
    def __init__(self, flow_id: _Optional[str] = ..., flow_name: _Optional[str] = ..., state: _Optional[_Union[FlowState, str]] = ..., arguments_json: _Optional[str] = ..., peer: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[_Union[LedgerValue, _Mapping]] = ..., error_type: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class ListFlowsRequest(_message.Message):
    __slots__ = ("states",)
    STATES_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[FlowState]
    def __init__(self, states: _Optional[_Iterable[_Union[FlowState, str]]] = ...) -> None: ...

class ListFlowsResponse(_message.Message):
    __slots__ = ("flows",)
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[FlowInfo]
    def __init__(self, flows: _Optional[_Iterable[_Union[FlowInfo, _Mapping]]] = ...) -> None: ...

class KillFlowRequest(_message.Message):
    __slots__ = ("flow_id",)
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    flow_id: str
    def __init__(self, flow_id: _Optional[str] = ...) -> None: ...

class ColumnCondition(_message.Message):
    __slots__ = ("state_type", "column", "operator", "value")
    STATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    state_type: str
    column: str
    operator: str
    value: str
    def __init__(self, state_type: _Optional[str] = ..., column: _Optional[str] = ..., operator: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SortKey(_message.Message):
    __slots__ = ("column", "descending")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    column: str
    descending: bool
    def __init__(self, column: _Optional[str] = ..., descending: _Optional[bool] = ...) -> None: ...

class VaultQueryRequest(_message.Message):
    __slots__ = ("status", "state_types", "participants", "notaries", "recorded_after", "recorded_before", "conditions", "page_number", "page_size", "sort")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    NOTARIES_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AFTER_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    status: StateStatus
    state_types: _containers.RepeatedScalarFieldContainer[str]
    participants: _containers.RepeatedScalarFieldContainer[str]
    notaries: _containers.RepeatedScalarFieldContainer[str]
    recorded_after: _timestamp_pb2.Timestamp
    recorded_before: _timestamp_pb2.Timestamp
    conditions: _containers.RepeatedCompositeFieldContainer[ColumnCondition]
    page_number: int
    page_size: int
    sort: _containers.RepeatedCompositeFieldContainer[SortKey]
    def __init__(self, status: _Optional[_Union[StateStatus, str]] = ..., state_types: _Optional[_Iterable[str]] = ..., participants: _Optional[_Iterable[str]] = ..., notaries: _Optional[_Iterable[str]] = ..., recorded_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[ColumnCondition, _Mapping]]] = ..., page_number: _Optional[int] = ..., page_size: _Optional[int] = ..., sort: _Optional[_Iterable[_Union[SortKey, _Mapping]]] = ...) -> None: ...

class VaultState(_message.Message):
    __slots__ = ("ref", "state_type", "contract", "notary", "status", "recorded_at", "consumed_at", "consuming_tx", "lock_id", "state")
    REF_FIELD_NUMBER: _ClassVar[int]
    STATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    NOTARY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_AT_FIELD_NUMBER: _ClassVar[int]
    CONSUMING_TX_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ref: str
    state_type: str
    contract: str
    notary: str
    status: StateStatus
    recorded_at: _timestamp_pb2.Timestamp
    consumed_at: _timestamp_pb2.Timestamp
    consuming_tx: str
    lock_id: str
    state: LedgerValue
    def __init__(self, ref: _Optional[str] = ..., state_type: _Optional[str] = ..., contract: _Optional[str] = ..., notary: _Optional[str] = ..., status: _Optional[_Union[StateStatus, str]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consumed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consuming_tx: _Optional[str] = ..., lock_id: _Optional[str] = ..., state: _Optional[_Union[LedgerValue, _Mapping]] = ...) -> None: ...

class VaultPage(_message.Message):
    __slots__ = ("states", "total_states_available", "page_number", "page_size")
    STATES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STATES_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedCompositeFieldContainer[VaultState]
    total_states_available: int
    page_number: int
    page_size: int
    def __init__(self, states: _Optional[_Iterable[_Union[VaultState, _Mapping]]] = ..., total_states_available: _Optional[int] = ..., page_number: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class GetTransactionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class Transaction(_message.Message):
    __slots__ = ("id", "transaction")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    transaction: LedgerValue
    def __init__(self, id: _Optional[str] = ..., transaction: _Optional[_Union[LedgerValue, _Mapping]] = ...) -> None: ...

class ListTransactionsRequest(_message.Message):
    __slots__ = ("page_number", "page_size")
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_number: int
    page_size: int
    def __init__(self, page_number: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class TransactionPage(_message.Message):
    __slots__ = ("transactions", "total", "page_number", "page_size")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    total: int
    page_number: int
    page_size: int
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ..., total: _Optional[int] = ..., page_number: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class NodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Peer(_message.Message):
    __slots__ = ("identity", "addresses", "rpc_address", "platform_version", "serial")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    RPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    identity: PartyInfo
    addresses: _containers.RepeatedScalarFieldContainer[str]
    rpc_address: str
    platform_version: int
    serial: int
    def __init__(self, identity: _Optional[_Union[PartyInfo, _Mapping]] = ..., addresses: _Optional[_Iterable[str]] = ..., rpc_address: _Optional[str] = ..., platform_version: _Optional[int] = ..., serial: _Optional[int] = ...) -> None: ...

class NotaryService(_message.Message):
    __slots__ = ("identity", "validating", "replicas")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    VALIDATING_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    identity: PartyInfo
    validating: bool
    replicas: _containers.RepeatedCompositeFieldContainer[PartyInfo]
    def __init__(self, identity: _Optional[_Union[PartyInfo, _Mapping]] = ..., validating: _Optional[bool] = ..., replicas: _Optional[_Iterable[_Union[PartyInfo, _Mapping]]] = ...) -> None: ...

class NetworkMapRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NetworkMapResponse(_message.Message):
    __slots__ = ("peers", "notaries", "epoch", "parameters_hash", "minimum_platform_version")
    PEERS_FIELD_NUMBER: _ClassVar[int]
    NOTARIES_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_HASH_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_PLATFORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    notaries: _containers.RepeatedCompositeFieldContainer[NotaryService]
    epoch: int
    parameters_hash: str
    minimum_platform_version: int
    def __init__(self, peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ..., notaries: _Optional[_Iterable[_Union[NotaryService, _Mapping]]] = ..., epoch: _Optional[int] = ..., parameters_hash: _Optional[str] = ..., minimum_platform_version: _Optional[int] = ...) -> None: ...

class AttachmentChunk(_message.Message):
    __slots__ = ("data", "filename", "total_size")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    filename: str
    total_size: int
    def __init__(self, data: _Optional[bytes] = ..., filename: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class AttachmentInfo(_message.Message):
    __slots__ = ("id", "size", "filename", "uploader")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    UPLOADER_FIELD_NUMBER: _ClassVar[int]
    id: str
    size: int
    filename: str
    uploader: str
    def __init__(self, id: _Optional[str] = ..., size: _Optional[int] = ..., filename: _Optional[str] = ..., uploader: _Optional[str] = ...) -> None: ...

class DownloadAttachmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...
