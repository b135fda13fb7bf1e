"""Typed errors of the energy CorDapp, one class per family of rule.

Contract rule breaks subclass `ContractViolation`, so the platform reports them as a
`ContractRejectedError` whose reason is the message and whose `__cause__` is the typed error.
Errors flows raise before building a transaction (bad rules documents, failed enrolment) are
`ValueError`s: they describe bad input, not a transaction.
"""

from __future__ import annotations

from dlt.ledger import ContractViolation


class EnergyRuleViolation(ContractViolation):
    """Base of every rule the energy, payment and order contracts enforce."""


class MarketRulesViolation(EnergyRuleViolation):
    """The transaction does not carry exactly one market-rules attachment its operator signed."""


class CommandViolation(EnergyRuleViolation):
    """The transaction has no command, or more than one, for a contract."""


class ShapeViolation(EnergyRuleViolation):
    """Wrong number or kind of inputs or outputs for the command."""


class SignerViolation(EnergyRuleViolation):
    """A party whose signature the rule needs is not among the command's signers."""


class EnergyTypeViolation(EnergyRuleViolation):
    """The energy type is not traded under the market rules, or differs where it must match."""


class PriceViolation(EnergyRuleViolation):
    """A price is outside the market rules' bounds or beyond an order's limit."""


class QuantityViolation(EnergyRuleViolation):
    """A quantity is outside the market rules' limits or beyond what an order allows."""


class ConservationViolation(EnergyRuleViolation):
    """Energy or money would be created or destroyed where it must be conserved exactly."""


class CurrencyViolation(EnergyRuleViolation):
    """An amount is in a currency other than the market's."""


class WindowViolation(EnergyRuleViolation):
    """A delivery window is outside trading hours, or differs where it must match."""


class FieldChangeViolation(EnergyRuleViolation):
    """A field that the command must leave unchanged was changed."""


class PartyViolation(EnergyRuleViolation):
    """A party is not the one the rule requires (market operator, seller, buyer, owner)."""


class MatchViolation(EnergyRuleViolation):
    """A market clearing result is inconsistent with the orders it consumes."""


class SettlementViolation(EnergyRuleViolation):
    """Delivery versus payment: the seller is not paid what the settled energy costs."""


class ReadingViolation(EnergyRuleViolation):
    """Energy issuance is not backed by a valid meter reading; subclasses say how."""


class MissingReadingError(ReadingViolation):
    """The market requires a meter reading for issuance and the transaction has none."""


class ForgedReadingError(ReadingViolation):
    """The reading is not signed by a meter the network's doorman admitted with a meter role."""


class ExpiredMeterError(ReadingViolation):
    """The reading attests an interval outside its meter certificate's validity period."""


class ForeignReadingError(ReadingViolation):
    """The reading belongs to another household than the energy's issuer."""


class ReplayedReadingError(ReadingViolation):
    """The reading attests another interval than the one the energy is issued for."""


class DoubleUsedReadingError(ReadingViolation):
    """Energy was already issued against this reading and the new issuance exceeds the rest."""


class OverIssueError(ReadingViolation):
    """More energy is issued than the reading's surplus (produced minus consumed)."""


class MarketRulesError(ValueError):
    """A market-rules document or attachment cannot be used."""


class NotMarketRulesError(MarketRulesError):
    """The attachment does not hold a market-rules document."""


class MarketRulesSignatureError(MarketRulesError):
    """The market-rules attachment is not signed by the market operator it names."""


class UntrustedMarketOperatorError(MarketRulesError):
    """The rules' operator is not the one the network parameters trust for market rules."""


class EnrolmentError(ValueError):
    """Algorithm 1 of the reference paper refused to enrol a participant."""

    def __init__(self, message: str, value: int, minimum: int, maximum: int) -> None:
        super().__init__(message)
        self.value = value
        self.minimum = minimum
        self.maximum = maximum


class ConsumerEnrolmentError(EnrolmentError):
    """A consumer's balance is outside the market's enrolment bounds."""


class ProducerEnrolmentError(EnrolmentError):
    """A producer's available energy is outside the market's enrolment bounds."""
