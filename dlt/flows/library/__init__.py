"""Flows every CorDapp builds on: signatures, finality, back-chain resolution, notarisation."""

from dlt.flows.library.finality import FinalityFlow, ReceiveFinalityFlow
from dlt.flows.library.notary_change import (
    ChangeNotaryFlow,
    NotaryChangeFlow,
    align_notaries,
    choose_notary,
)
from dlt.flows.library.notary_client import (
    NotaryClientFlow,
    NotaryClientSettings,
    NotaryUnavailableError,
    needs_notarisation,
)
from dlt.flows.library.notary_protocol import NotaryError, NotaryException
from dlt.flows.library.signatures import CollectSignaturesFlow, SignTransactionFlow
from dlt.flows.library.transactions import (
    DataVendingFlow,
    ReceiveStatesFlow,
    ReceiveTransactionFlow,
    ResolveTransactionsFlow,
    SendStatesFlow,
    SendTransactionFlow,
    SendTransactionForReplyFlow,
)

__all__ = [
    "ChangeNotaryFlow",
    "CollectSignaturesFlow",
    "DataVendingFlow",
    "FinalityFlow",
    "NotaryChangeFlow",
    "NotaryClientFlow",
    "NotaryClientSettings",
    "NotaryError",
    "NotaryException",
    "NotaryUnavailableError",
    "ReceiveFinalityFlow",
    "ReceiveStatesFlow",
    "ReceiveTransactionFlow",
    "ResolveTransactionsFlow",
    "SendStatesFlow",
    "SendTransactionFlow",
    "SendTransactionForReplyFlow",
    "SignTransactionFlow",
    "align_notaries",
    "choose_notary",
    "needs_notarisation",
]
