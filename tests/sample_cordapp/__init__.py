"""A minimal token CorDapp used only by the tests: states, a contract and flows."""

from sample_cordapp.contract import TOKEN_CONTRACT, TokenContract, TokenIssue, TokenMove
from sample_cordapp.flows import (
    AgreedMoveFlow,
    DoubleSpendFlow,
    IssueTokensFlow,
    MoveTokensFlow,
)
from sample_cordapp.state import TokenState

__all__ = [
    "TOKEN_CONTRACT",
    "AgreedMoveFlow",
    "DoubleSpendFlow",
    "IssueTokensFlow",
    "MoveTokensFlow",
    "TokenContract",
    "TokenIssue",
    "TokenMove",
    "TokenState",
]
