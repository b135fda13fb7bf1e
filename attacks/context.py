"""What the runner hands each scenario: the network, the seed, the honest workload."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from attacks.honest import honest_load
from attacks.network import AttackNetwork
from attacks.scenario import Latency, Options, Scenario
from deploy.localnet import Localnet, Shape
from dlt.cli.progress import Progress
from dlt.rpc.client import RpcClient


def scenario_rng(seed: int, name: str) -> random.Random:
    """A generator for one scenario, from the run's seed and the scenario's name: running one
    scenario alone draws what it draws in `run all`."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class RunContext:
    """`attacks.scenario.AttackContext` on a local network."""

    network: AttackNetwork
    shape: Shape
    options: Options
    rng: random.Random
    progress: Progress
    baseline: Latency
    faulty: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.network.home

    @property
    def localnet(self) -> Localnet:
        return self.network.localnet

    def count(self, scenario: Scenario) -> int:
        if self.options.count is not None:
            return self.options.count
        return scenario.full_count if self.options.full else scenario.default_count

    def rpc(self, node: str) -> AbstractAsyncContextManager[RpcClient]:
        return self.network.rpc(node)

    def honest_load(self) -> AbstractAsyncContextManager[Callable[[], Latency]]:
        return honest_load(self.network)

    async def set_byzantine(self, faulty: Mapping[str, str]) -> None:
        wanted = dict(faulty)
        if wanted == self.faulty:
            return
        say = self.progress.step
        described = ", ".join(f"{r}={m}" for r, m in wanted.items()) or "every replica honest"
        say(f"Reconfiguring the notary cluster: {described}")
        await asyncio.to_thread(self.localnet.configure_byzantine, wanted, True, say)
        await asyncio.to_thread(self.localnet.up, self.shape, _quiet)
        self.faulty = wanted

    @asynccontextmanager
    async def faults(self, faulty: Mapping[str, str]) -> AsyncIterator[None]:
        """Replicas faulty for the block, every one honest again after it."""
        await self.set_byzantine(faulty)
        try:
            yield
        finally:
            await self.set_byzantine({})


def _quiet(_: str) -> None:
    """Restarting replicas is reported once, by set_byzantine, not line by line."""
