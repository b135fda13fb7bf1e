"""The ledger model: states, contracts, commands, attachments and transactions."""

from dlt.ledger.attachments import (
    Attachment,
    AttachmentSignature,
    AttachmentStorage,
    InMemoryAttachmentStorage,
)
from dlt.ledger.builder import TransactionBuilder
from dlt.ledger.commands import Command, CommandData, CommandWithParties
from dlt.ledger.components import ComponentGroup
from dlt.ledger.constraints import (
    AlwaysAcceptAttachmentConstraint,
    AttachmentConstraint,
    HashAttachmentConstraint,
    SignatureAttachmentConstraint,
)
from dlt.ledger.contracts import (
    Contract,
    ContractViolation,
    UnknownContractError,
    contract,
    contract_code_id,
    installed_contract,
)
from dlt.ledger.cordapp import cordapp_attachment
from dlt.ledger.errors import (
    AttachmentError,
    ComponentVisibilityError,
    ConstraintError,
    ContractBindingError,
    ContractCodeMismatchError,
    ContractRejectedError,
    EncumbranceError,
    FilteredTransactionError,
    InvalidTransactionSignatureError,
    LedgerError,
    MalformedTransactionError,
    NotaryMismatchError,
    SignatureError,
    SignaturesMissingError,
    TransactionBuildError,
    TransactionVerificationError,
)
from dlt.ledger.filtered_transaction import FilteredGroup, FilteredTransaction, notary_view
from dlt.ledger.ledger_transaction import LedgerTransaction
from dlt.ledger.network_parameters import NetworkParameters, NotaryInfo
from dlt.ledger.notary_change import NotaryChange
from dlt.ledger.resolution import (
    LedgerLookup,
    OverlayLookup,
    TransactionResolutionError,
    UnknownNetworkParametersError,
    resolve,
)
from dlt.ledger.signatures import (
    SignatureMetadata,
    TransactionSignature,
    sign_batch,
    sign_transaction_id,
)
from dlt.ledger.signed_transaction import SignedTransaction
from dlt.ledger.states import (
    ContractState,
    LedgerModel,
    LinearState,
    OwnableState,
    StateAndRef,
    StateRef,
    TransactionState,
    UniqueIdentifier,
)
from dlt.ledger.time_window import TimeWindow
from dlt.ledger.wire_transaction import WireTransaction, check_distinct_states

__all__ = [
    "AlwaysAcceptAttachmentConstraint",
    "Attachment",
    "AttachmentConstraint",
    "AttachmentError",
    "AttachmentSignature",
    "AttachmentStorage",
    "Command",
    "CommandData",
    "CommandWithParties",
    "ComponentGroup",
    "ComponentVisibilityError",
    "ConstraintError",
    "Contract",
    "ContractBindingError",
    "ContractCodeMismatchError",
    "ContractRejectedError",
    "ContractState",
    "ContractViolation",
    "EncumbranceError",
    "FilteredGroup",
    "FilteredTransaction",
    "FilteredTransactionError",
    "HashAttachmentConstraint",
    "InMemoryAttachmentStorage",
    "InvalidTransactionSignatureError",
    "LedgerError",
    "LedgerLookup",
    "LedgerModel",
    "LedgerTransaction",
    "LinearState",
    "MalformedTransactionError",
    "NetworkParameters",
    "NotaryChange",
    "NotaryInfo",
    "NotaryMismatchError",
    "OverlayLookup",
    "OwnableState",
    "SignatureAttachmentConstraint",
    "SignatureError",
    "SignatureMetadata",
    "SignaturesMissingError",
    "SignedTransaction",
    "StateAndRef",
    "StateRef",
    "TimeWindow",
    "TransactionBuildError",
    "TransactionBuilder",
    "TransactionResolutionError",
    "TransactionSignature",
    "TransactionState",
    "TransactionVerificationError",
    "UniqueIdentifier",
    "UnknownContractError",
    "UnknownNetworkParametersError",
    "WireTransaction",
    "check_distinct_states",
    "contract",
    "contract_code_id",
    "cordapp_attachment",
    "installed_contract",
    "notary_view",
    "resolve",
    "sign_batch",
    "sign_transaction_id",
]
