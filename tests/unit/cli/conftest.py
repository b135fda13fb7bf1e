"""Run the installed `dlt` console script as a user would, with the test CorDapp importable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DLT = Path(sys.executable).parent / "dlt"
TESTS = Path(__file__).resolve().parents[2]

RunDlt = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_dlt() -> RunDlt:
    if not DLT.exists():
        pytest.fail(f"{DLT} is missing; install the project with `pip install -e .`")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "PYTHONPATH": str(TESTS), **(env or {})}
        return subprocess.run(
            [str(DLT), *args], capture_output=True, text=True, env=environment, timeout=60
        )

    return run
