"""The interface every attack scenario implements, and the row each one reports.

A scenario is a module under `attacks/scenarios/` (or `attacks/gateway/scenario.py`, which
part B of issue 10 provides) exposing `SCENARIO`, an object with the attributes and the `run`
coroutine of `Scenario` below. The runner gives it an `AttackContext`: the running local
network, the seeded random generator, how many attempts to make, progress reporting, and the
honest workload whose latency the row compares with the baseline run without the attack.

A scenario returns one `Row` per mode it tried (for example one per Byzantine replica mode).
A row passes when nothing was accepted that should not have been; a row run beyond the fault
tolerance on purpose (`unsafe`, the f + 1 rows) documents what breaks and never fails a run.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from attacks.network import AttackNetwork
    from deploy.localnet import Localnet, Shape
    from dlt.cli.progress import Progress
    from dlt.rpc.client import RpcClient


@dataclass(frozen=True)
class Latency:
    """Honest operations' latency over one window, in milliseconds."""

    count: int
    p50_ms: float | None
    p99_ms: float | None
    failures: int = 0
    """Honest operations that failed in the window (a cost of the attack too)."""
    unfinished: int = 0
    """Honest operations still waiting for the notary when the window closed: not failed,
    they finish once it decides (with f + 1 silent replicas, after the row)."""


@dataclass(frozen=True)
class Row:
    """What one scenario in one mode measured."""

    scenario: str
    mode: str
    attempts: int
    accepted: int
    """Attacks that succeeded: accepted, recorded or notarised when they should not have
    been. 0 for a row to pass."""
    honest: Latency
    """Honest operations completed while the attack ran."""
    baseline: Latency
    """The same honest workload on the same network without the attack."""
    notes: str = ""
    accepted_what: tuple[str, ...] = ()
    """One line per accepted attack (the first few), naming what got through."""
    unsafe: bool = False
    """Run beyond the fault tolerance on purpose (`--allow-unsafe`, f + 1 faulty replicas):
    the row shows what breaks and does not fail the run."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Scenario-specific figures for the report (JSON-able), e.g. cleared quantity."""

    @property
    def passed(self) -> bool:
        return self.unsafe or self.accepted == 0


@dataclass(frozen=True)
class Options:
    """How a run was asked for: enough, with the network shape, to repeat it exactly."""

    count: int | None = None
    """Attempts per scenario; None for each scenario's own default (`make attacks`)."""
    seed: int = 1
    full: bool = False
    """`make attacks-full`: each scenario's `full_count` instead of its `default_count`."""
    allow_unsafe: bool = False
    """Also run f + 1 faulty replicas, to show what the fault tolerance protects."""
    modes: tuple[str, ...] = ()
    """Only these Byzantine modes (by name, e.g. `equivocate`); every mode when empty."""


HonestLoad = Callable[[], AbstractAsyncContextManager[Callable[[], Latency]]]
"""`async with context.honest_load() as measured:` runs the honest workload in the background
for the block; `measured()` after the block gives its latency."""


@runtime_checkable
class AttackContext(Protocol):
    """What a scenario gets from the runner."""

    home: Path
    network: AttackNetwork
    """The running network and its roles (bank, honest payer, attacker, accomplice), its
    replicas and RPC to every node (`attacks.network`)."""
    localnet: Localnet
    """The same network's processes (`deploy.localnet.Localnet`): members, kill, restart."""
    shape: Shape
    options: Options
    rng: random.Random
    """Seeded from `options.seed` and the scenario's name: a run repeats exactly."""
    progress: Progress
    baseline: Latency

    def count(self, scenario: Scenario) -> int:
        """Attempts this run makes for `scenario` (the option, else its default or full)."""
        ...

    def rpc(self, node: str) -> AbstractAsyncContextManager[RpcClient]:
        """An RPC client for the node with slug, organisation or X.500 name `node`."""
        ...

    def honest_load(self) -> AbstractAsyncContextManager[Callable[[], Latency]]:
        """Run the honest workload while the block runs; see `HonestLoad`."""
        ...

    def set_byzantine(self, faulty: Mapping[str, str]) -> Awaitable[None]:
        """Reconfigure notary replicas: slug -> Byzantine mode (`notary.byzantine.Behaviour`
        text); every replica not named becomes honest again. Restarts what changed and waits
        until the network sees it."""
        ...


@runtime_checkable
class Scenario(Protocol):
    """One attack scenario. `run` returns one row per mode tried."""

    name: ClassVar[str] | str
    """What `dlt attack run NAME` takes: lower case words joined by '-'."""
    summary: ClassVar[str] | str
    default_count: ClassVar[int] | int
    """Attempts in `make attacks`."""
    full_count: ClassVar[int] | int
    """Attempts in `make attacks-full`."""

    async def run(self, context: AttackContext) -> list[Row]: ...
