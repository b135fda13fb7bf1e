"""Rules for TokenState: issue by the issuer, move conserving amounts, signed by the owners."""

from __future__ import annotations

from dlt.encoding import serializable
from dlt.ledger import CommandData, Contract, ContractViolation, LedgerTransaction, contract
from sample_cordapp.state import TokenState

TOKEN_CONTRACT = "test.TokenContract"


@serializable("test.TokenIssue")
class TokenIssue(CommandData):
    pass


@serializable("test.TokenMove")
class TokenMove(CommandData):
    pass


@contract(TOKEN_CONTRACT)
class TokenContract(Contract):
    def verify(self, tx: LedgerTransaction) -> None:
        commands = tx.commands_of_type(TokenIssue) + tx.commands_of_type(TokenMove)
        if len(commands) != 1:
            raise ContractViolation("exactly one TokenIssue or TokenMove command is required")
        command = commands[0]
        inputs = tx.inputs_of_type(TokenState)
        outputs = tx.outputs_of_type(TokenState)
        if isinstance(command.value, TokenIssue):
            if inputs:
                raise ContractViolation("issuing consumes no tokens")
            if not outputs:
                raise ContractViolation("issuing creates at least one token")
            for state in outputs:
                if state.issuer.owning_key not in command.signers:
                    raise ContractViolation(f"the issuer {state.issuer} must sign the issuance")
            return
        if not inputs:
            raise ContractViolation("a move consumes at least one token")
        if sum(s.amount for s in inputs) != sum(s.amount for s in outputs):
            raise ContractViolation("a move must conserve the total amount")
        if {s.issuer for s in inputs} != {s.issuer for s in outputs}:
            raise ContractViolation("a move cannot change who issued the tokens")
        for state in inputs:
            if state.owner.owning_key not in command.signers:
                raise ContractViolation(f"the owner {state.owner} must sign the move")
