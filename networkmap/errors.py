"""The doorman's refusals; each message says what to do instead. They live apart from the
Doorman so every module of it can raise them."""


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
