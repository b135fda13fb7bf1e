"""A minimal token CorDapp used only by the tests: issue, move and a rejected invalid transfer."""

from sample_cordapp.contract import TOKEN_CONTRACT, TokenContract, TokenIssue, TokenMove
from sample_cordapp.state import TokenState

__all__ = ["TOKEN_CONTRACT", "TokenContract", "TokenIssue", "TokenMove", "TokenState"]
