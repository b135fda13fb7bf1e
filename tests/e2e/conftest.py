"""A real local network (processes, TLS, RabbitMQ) started once for the end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DLT = str(Path(sys.executable).with_name("dlt"))

OPERATOR = "O=Market Operator, L=London, C=GB"
BANK = "O=Community Bank, L=London, C=GB"
PRODUCER = "O=Producer 1, L=Leeds, C=GB"
CONSUMER = "O=Consumer 1, L=York, C=GB"


@dataclass
class Localnet:
    home: Path

    def dlt(
        self, *args: str, timeout: float = 120, check: bool = True, env: dict | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DLT_HOME": str(self.home), **(env or {})}
        result = subprocess.run(
            [DLT, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            raise AssertionError(
                f"dlt {command} failed ({result.returncode}):\n{result.stderr}{result.stdout}"
            )
        return result

    def flow(self, node: str, name: str, **arguments: object) -> dict:
        pairs = [f"{key}={value}" for key, value in arguments.items()]
        result = self.dlt("flow", "start", "--node", node, "--json", name, *pairs)
        return json.loads(result.stdout)

    def states(self, node: str, state_type: str, status: str = "unconsumed") -> list[dict]:
        result = self.dlt(
            "vault",
            "query",
            "--node",
            node,
            "--type",
            state_type,
            "--status",
            status,
            "--page-size",
            "1000",
            "--json",
        )
        return [entry["state"]["value"]["data"] for entry in json.loads(result.stdout)["states"]]

    def owned(self, node: str, owner: str, state_type: str, column: str) -> list[int]:
        return sorted(
            s[column] for s in self.states(node, state_type) if s["owner"]["name"] == owner
        )


def _running(home: Path, *options: str) -> Iterator[Localnet]:
    net = Localnet(home)
    net.dlt("localnet", "up", "--producers", "1", "--consumers", "1", *options, timeout=300)
    try:
        net.flow(
            "market-operator",
            "energy.PublishCommunityRules",
            payment_issuer=BANK,
            require_meter_readings="false",
        )
        yield net
    finally:
        net.dlt("localnet", "down", check=False, timeout=120)


@pytest.fixture(scope="session")
def localnet(tmp_path_factory) -> Iterator[Localnet]:
    """One notary node, two parties, the operator and the bank."""
    yield from _running(tmp_path_factory.mktemp("localnet") / "net")


@pytest.fixture(scope="module")
def cluster_localnet(tmp_path_factory) -> Iterator[Localnet]:
    """The same, with a notary cluster of four replicas (tolerates one faulty replica)."""
    yield from _running(tmp_path_factory.mktemp("cluster") / "net", "--replicas", "4")
