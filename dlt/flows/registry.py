"""Flow registration: stable names, initiating flows and the responders they start."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dlt.flows.api import FlowLogic
from dlt.flows.errors import FlowRegistrationError

F = TypeVar("F", bound=type[FlowLogic])  # type: ignore[type-arg]

_by_name: dict[str, type[FlowLogic]] = {}  # type: ignore[type-arg]
_responders: dict[str, type[FlowLogic]] = {}  # type: ignore[type-arg]


def flow(
    name: str, *, initiating: bool = False, version: int = 1, rpc: bool = False
) -> Callable[[F], F]:
    """Register a flow under a stable name. `initiating` flows may open sessions; `rpc`
    flows may be started by RPC users with the right permission."""

    def register(cls: F) -> F:
        existing = _by_name.get(name)
        if existing is not None and existing is not cls:
            raise FlowRegistrationError(
                f"flow name {name!r} is taken by {existing.__module__}.{existing.__qualname__}"
            )
        cls.flow_name = name
        cls.initiating = initiating
        cls.protocol_version = version
        cls.startable_by_rpc = rpc
        _by_name[name] = cls
        return cls

    return register


def responder(initiator: type[FlowLogic]) -> Callable[[F], F]:  # type: ignore[type-arg]
    """Register the flow a node runs when a peer's `initiator` opens a session to it.

    The responder must have a field `session: FlowSession`.
    """

    def register(cls: F) -> F:
        if not initiator.initiating or initiator.flow_name is None:
            raise FlowRegistrationError(
                f"{initiator.__qualname__} must be registered with @flow(name, initiating=True) "
                "before a responder can be registered for it"
            )
        if "session" not in cls.model_fields:
            raise FlowRegistrationError(f"responder {cls.__qualname__} needs a `session` field")
        if cls.flow_name is None:
            cls.flow_name = f"{initiator.flow_name}#responder"
            _by_name.setdefault(cls.flow_name, cls)
        _responders[initiator.flow_name] = cls
        return cls

    return register


def flow_class(name: str) -> type[FlowLogic]:  # type: ignore[type-arg]
    try:
        return _by_name[name]
    except KeyError:
        raise FlowRegistrationError(
            f"no flow is registered as {name!r}; is the CorDapp that provides it installed?"
        ) from None


def registered_flows() -> dict[str, type[FlowLogic]]:  # type: ignore[type-arg]
    return dict(_by_name)


def responder_for(protocol: str) -> type[FlowLogic] | None:  # type: ignore[type-arg]
    """The responder registered for an initiating flow's protocol name, if any."""
    return _responders.get(protocol)
