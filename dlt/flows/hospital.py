"""The flow hospital: what to do with a flow whose `call` raised."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from dlt.flows.errors import FlowException, ReplayDivergenceError
from dlt.ledger.errors import LedgerError
from dlt.messaging.transport import TransportError
from dlt.vault.database import DatabaseError


class TransientError(Exception):
    """Raise (or subclass) for a failure that may go away if the flow is simply retried."""


class NeedsOperatorError(Exception):
    """Raise (or subclass) for a failure only a person can resolve; the flow is parked."""


class Treatment(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    PARK = "park"


@dataclass(frozen=True)
class Diagnosis:
    treatment: Treatment
    delay: float = 0.0
    reason: str = ""


TRANSIENT: tuple[type[BaseException], ...] = (
    TransientError,
    TransportError,
    DatabaseError,
    OperationalError,
    ConnectionError,
)


@dataclass
class Hospital:
    """Retry transient errors with exponential backoff and jitter; park what needs a person;
    fail everything else to the caller, whose error message says what went wrong."""

    max_retries: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0

    def diagnose(self, error: BaseException, retries_so_far: int) -> Diagnosis:
        if isinstance(error, FlowException | LedgerError | ValidationError):
            return Diagnosis(Treatment.FAIL, reason=str(error))
        if isinstance(error, ReplayDivergenceError | NeedsOperatorError):
            return Diagnosis(Treatment.PARK, reason=str(error))
        if isinstance(error, TRANSIENT):
            if retries_so_far >= self.max_retries:
                return Diagnosis(
                    Treatment.PARK,
                    reason=f"still failing after {retries_so_far} retries: {error}",
                )
            return Diagnosis(Treatment.RETRY, delay=self.backoff(retries_so_far), reason=str(error))
        return Diagnosis(Treatment.FAIL, reason=f"{type(error).__name__}: {error}")

    def backoff(self, retries_so_far: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**retries_so_far))
        return random.uniform(ceiling / 2, ceiling)
