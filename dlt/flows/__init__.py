"""Flows: how parties agree on ledger updates, durably, by exchanging messages."""

from dlt.flows.api import FlowHandle, FlowLogic, FlowSession
from dlt.flows.errors import (
    CounterpartyFlowError,
    FlowException,
    FlowHospitalisedError,
    FlowKilledError,
    FlowNotFoundError,
    FlowRegistrationError,
    FlowTimeoutError,
    ReplayDivergenceError,
    UnexpectedFlowEndError,
    UnexpectedMessageTypeError,
)
from dlt.flows.registry import flow, flow_class, registered_flows, responder

__all__ = [
    "CounterpartyFlowError",
    "FlowException",
    "FlowHandle",
    "FlowHospitalisedError",
    "FlowKilledError",
    "FlowLogic",
    "FlowNotFoundError",
    "FlowRegistrationError",
    "FlowSession",
    "FlowTimeoutError",
    "ReplayDivergenceError",
    "UnexpectedFlowEndError",
    "UnexpectedMessageTypeError",
    "flow",
    "flow_class",
    "registered_flows",
    "responder",
]
