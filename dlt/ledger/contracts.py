"""Contracts: the rules a transaction must satisfy, looked up by a stable name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from dlt.crypto import SecureHash
from dlt.ledger.cordapp import cordapp_attachment

if TYPE_CHECKING:
    from dlt.ledger.ledger_transaction import LedgerTransaction


class ContractViolation(Exception):  # noqa: N818 - reads as "the contract says: violation"
    """Raised by contract code; the message tells the user which rule the transaction broke."""


class Contract(ABC):
    """Verifies whole transactions. Contracts must be deterministic and side-effect free."""

    @abstractmethod
    def verify(self, tx: LedgerTransaction) -> None:
        """Raise `ContractViolation` unless `tx` obeys this contract's rules."""


ContractT = TypeVar("ContractT", bound=type[Contract])

_contracts: dict[str, type[Contract]] = {}


def contract(name: str) -> Callable[[ContractT], ContractT]:
    """Class decorator: install a contract under the name states refer to it by."""

    def register(cls: ContractT) -> ContractT:
        existing = _contracts.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"contract name {name!r} is already used by {existing.__qualname__}")
        _contracts[name] = cls
        return cls

    return register


class UnknownContractError(LookupError):
    """A transaction names a contract that no installed CorDapp provides."""


def installed_contract(name: str) -> type[Contract]:
    try:
        return _contracts[name]
    except KeyError:
        raise UnknownContractError(
            f"contract {name!r} is not installed on this node; install the CorDapp that provides it"
        ) from None


def contract_cordapp(name: str) -> str:
    """The top-level package (CorDapp) whose code the named contract is part of."""
    return installed_contract(name).__module__.partition(".")[0]


def contract_code_id(name: str) -> SecureHash:
    """Hash of the installed code of the CorDapp that provides contract `name`."""
    return cordapp_attachment(contract_cordapp(name)).id
