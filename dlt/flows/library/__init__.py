"""Flows every CorDapp builds on: signatures, finality, back-chain resolution, notarisation."""

from dlt.flows.library.finality import FinalityFlow, ReceiveFinalityFlow
from dlt.flows.library.notary_client import NotaryClientFlow, needs_notarisation
from dlt.flows.library.notary_protocol import NotaryError, NotaryException
from dlt.flows.library.signatures import CollectSignaturesFlow, SignTransactionFlow
from dlt.flows.library.transactions import (
    DataVendingFlow,
    ReceiveStatesFlow,
    ReceiveTransactionFlow,
    ResolveTransactionsFlow,
    SendStatesFlow,
    SendTransactionFlow,
)

__all__ = [
    "CollectSignaturesFlow",
    "DataVendingFlow",
    "FinalityFlow",
    "NotaryClientFlow",
    "NotaryError",
    "NotaryException",
    "ReceiveFinalityFlow",
    "ReceiveStatesFlow",
    "ReceiveTransactionFlow",
    "ResolveTransactionsFlow",
    "SendStatesFlow",
    "SendTransactionFlow",
    "SignTransactionFlow",
    "needs_notarisation",
]
