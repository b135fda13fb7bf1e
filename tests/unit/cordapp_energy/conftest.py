from __future__ import annotations

import pytest

from dlt.testing import InMemoryLedger

from .support import new_ledger


@pytest.fixture
def ledger() -> InMemoryLedger:
    return new_ledger()
