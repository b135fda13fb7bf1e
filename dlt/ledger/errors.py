"""Why a transaction was refused. Every message names the transaction and what to fix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlt.crypto import PublicKey, SecureHash


class LedgerError(Exception):
    """Base of every ledger-model failure."""


class TransactionBuildError(LedgerError):
    """A transaction could not be assembled from the given parts."""


class MalformedTransactionError(LedgerError):
    """The components of a transaction do not form a well-shaped transaction."""


class AttachmentError(LedgerError):
    """An attachment is missing, corrupt or carries an invalid signature."""


class TransactionVerificationError(LedgerError):
    """A transaction broke a platform or contract rule."""

    def __init__(self, tx_id: SecureHash, message: str) -> None:
        super().__init__(f"transaction {tx_id}: {message}")
        self.tx_id = tx_id


class ContractRejectedError(TransactionVerificationError):
    """A contract's `verify` refused the transaction."""

    def __init__(self, tx_id: SecureHash, contract: str, reason: str) -> None:
        super().__init__(tx_id, f"contract {contract} rejected it: {reason}")
        self.contract = contract
        self.reason = reason


class ContractBindingError(TransactionVerificationError):
    """A state is labelled with a contract other than the one its type belongs to."""


class NotaryMismatchError(TransactionVerificationError):
    """Inputs, references or outputs name a different notary than the transaction."""


class EncumbranceError(TransactionVerificationError):
    """An encumbered state is spent without its encumbrance, or points nowhere."""


class ConstraintError(TransactionVerificationError):
    """A state's contract constraint does not accept the contract code the transaction pins."""


class ContractCodeMismatchError(TransactionVerificationError):
    """The transaction was built against contract code other than the one installed here."""


class SignatureError(LedgerError):
    """Base of signature failures on a signed transaction."""


class InvalidTransactionSignatureError(SignatureError):
    """A signature on the transaction does not verify."""


class SignaturesMissingError(SignatureError):
    """Keys the transaction requires have not signed it."""

    def __init__(
        self, tx_id: SecureHash, missing: Iterable[PublicKey], names: Iterable[str]
    ) -> None:
        self.tx_id = tx_id
        self.missing = frozenset(missing)
        listed = ", ".join(sorted(names))
        super().__init__(
            f"transaction {tx_id} is missing signatures from {listed}; "
            "collect them (CollectSignaturesFlow) before finalising"
        )


class FilteredTransactionError(LedgerError):
    """A filtered transaction's proofs do not match its id, or it hides what it claims to show."""


class ComponentVisibilityError(FilteredTransactionError):
    """A component group claimed complete has components the filtered transaction hides."""
