"""The refusals of the doorman and of the network map service; each message says what to do
instead. They live apart from the services so every module of either can raise them."""


class DoormanError(Exception):
    """Base of the doorman's refusals; each message says what to do instead."""


class InvalidRegistrationError(DoormanError):
    """The CSR is malformed, not signed by its key, badly named or holds the wrong kind of key."""


class DuplicateNameError(DoormanError):
    """The name is already registered, or requested, with a different key."""


class UnknownTicketError(DoormanError):
    """No registration has this ticket."""


class RegistrationStateError(DoormanError):
    """The operator action does not fit the request's state (e.g. approving a rejected one)."""


class MissingSigningKeyError(DoormanError):
    """Signing was asked of a doorman opened without its CA key."""


class UnknownNodeError(DoormanError):
    """No admitted node has this name, so there is nothing to revoke."""


class NetworkMapServiceError(Exception):
    """Base of the network map service's refusals; each message says what to do instead."""


class MalformedSubmissionError(NetworkMapServiceError):
    """The submitted bytes are not a canonical encoding of the expected signed type."""


class NodeInfoRefusedError(NetworkMapServiceError):
    """A NodeInfo that does not verify, was not admitted by our doorman, or is too old."""


class RevokedNodeError(NodeInfoRefusedError):
    """A NodeInfo from a node the doorman revoked, or whose certificates it revoked."""


class StaleNodeInfoError(NetworkMapServiceError):
    """A NodeInfo whose serial is not newer than the one already published for that node."""


class NetworkParametersRefusedError(NetworkMapServiceError):
    """Network parameters that do not verify or would move the epoch backwards."""


class NotFoundError(NetworkMapServiceError):
    """Nothing is stored under the requested hash."""


class NoNetworkParametersError(NetworkMapServiceError):
    """The service has no network parameters yet, so it cannot serve a map."""
