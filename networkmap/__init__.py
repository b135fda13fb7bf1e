"""The doorman (admits nodes by signing their node CA certificates) and the network map service
(publishes signed NodeInfos and network parameters), served over HTTPS; plus the offline
bootstrapper of a local network. `python -m networkmap --help` lists the commands."""

from networkmap.bootstrap import (
    BootstrapError,
    BootstrappedNode,
    BootstrapResult,
    NetworkHome,
    NetworkHomeError,
    bootstrap_network,
    node_slug,
)
from networkmap.doorman import (
    Doorman,
    DoormanError,
    DuplicateNameError,
    InvalidRegistrationError,
    Registration,
    RegistrationStateError,
    RegistrationStatus,
    UnknownTicketError,
)
from networkmap.network_map import (
    MalformedSubmissionError,
    NetworkMapService,
    NetworkMapServiceError,
    NodeInfoRefusedError,
    NotFoundError,
    StaleNodeInfoError,
)
from networkmap.server import NetworkMapServer, server_ssl_context

__all__ = [
    "BootstrapError",
    "BootstrapResult",
    "BootstrappedNode",
    "Doorman",
    "DoormanError",
    "DuplicateNameError",
    "InvalidRegistrationError",
    "MalformedSubmissionError",
    "NetworkHome",
    "NetworkHomeError",
    "NetworkMapServer",
    "NetworkMapService",
    "NetworkMapServiceError",
    "NodeInfoRefusedError",
    "NotFoundError",
    "Registration",
    "RegistrationStateError",
    "RegistrationStatus",
    "StaleNodeInfoError",
    "UnknownTicketError",
    "bootstrap_network",
    "node_slug",
    "server_ssl_context",
]
