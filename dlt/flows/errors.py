"""Errors of the flow framework. `FlowException` is the one a flow raises on purpose."""

from __future__ import annotations


class FlowException(Exception):  # noqa: N818 - the name Corda users know
    """A deliberate, user-facing failure: sent to counterparties and to whoever started the flow."""


class CounterpartyFlowError(FlowException):
    """The counterparty's flow failed; its message says why."""

    def __init__(self, counterparty: str, error_type: str, message: str) -> None:
        super().__init__(f"{counterparty} failed with {error_type}: {message}")
        self.counterparty = counterparty
        self.error_type = error_type
        self.remote_message = message


class UnexpectedFlowEndError(FlowException):
    """The counterparty's flow finished while this one still expected a message from it."""


class UnexpectedMessageTypeError(FlowException):
    """A counterparty sent something other than what this flow expected: a protocol mismatch."""


class FlowTimeoutError(FlowException):
    """A flow, or one of its receives, took longer than it was allowed."""


class FlowKilledError(FlowException):
    """An operator killed the flow."""


class FlowNotFoundError(LookupError):
    """No flow with that id is known to this node."""


class FlowRegistrationError(Exception):
    """A flow class was registered wrongly (missing name, duplicate, bad responder)."""


class ReplayDivergenceError(Exception):
    """Replaying a flow's journal did not retrace the same steps: its code is not deterministic
    (it read the clock, randomness or the database outside the flow API) or it changed
    between runs. The flow is parked for an operator."""


class FlowHospitalisedError(Exception):
    """The flow is parked awaiting an operator; retry it or kill it with `dlt flow`."""
