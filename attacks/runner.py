"""Runs scenarios against a local network: the network, the baseline, the rows, the report."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from attacks.context import RunContext, scenario_rng
from attacks.honest import baseline, fund_honest_payer
from attacks.network import BANK, OPERATOR, SUITE_SHAPE, AttackNetwork, AttackNetworkError
from attacks.scenario import Latency, Options, Row, Scenario
from deploy.localnet import Localnet, LocalnetError, Shape
from dlt.cli.progress import Progress
from dlt.rpc.client import FlowFailedError


@dataclass
class Run:
    """What one `dlt attack run` did: enough to write the report and to repeat it."""

    options: Options
    scenarios: list[str]
    network: dict[str, object]
    baseline: Latency
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.rows if not row.passed]


class AttackRunError(Exception):
    """The run could not start or a scenario could not be carried out; says why."""


async def _prepare(network: AttackNetwork, created: bool, progress: Progress) -> Latency:
    if created:
        progress.step("Publishing the community market rules")
        async with network.rpc(OPERATOR) as operator:
            # The suite's producers have no meters (as in the demo and the benchmark), so its
            # market issues energy without readings; attestation has its own specs.
            await operator.run_flow(
                "energy.PublishCommunityRules",
                {"payment_issuer": BANK, "require_meter_readings": False},
            )
    progress.step("Funding the honest payer")
    await fund_honest_payer(network)
    progress.step("Measuring the honest workload without any attack (baseline)")
    measured = await baseline(network)
    progress.step(f"Baseline: {_figures(measured)}")
    return measured


async def run_scenarios(
    chosen: Sequence[Scenario],
    options: Options,
    network: AttackNetwork,
    shape: Shape,
    progress: Progress,
    *,
    created: bool,
) -> Run:
    network.check()
    began = time.monotonic()
    measured = await _prepare(network, created, progress)
    run = Run(
        options=options,
        scenarios=[s.name for s in chosen],
        network=network.shape(),
        baseline=measured,
    )
    for scenario in chosen:
        progress.step(f"Scenario {scenario.name}: {scenario.summary}")
        context = RunContext(
            network=network,
            shape=shape,
            options=options,
            rng=scenario_rng(options.seed, scenario.name),
            progress=progress,
            baseline=measured,
        )
        try:
            rows = await scenario.run(context)
        except FlowFailedError as exc:
            raise AttackRunError(f"scenario {scenario.name} could not run: {exc}") from exc
        finally:
            await context.set_byzantine({})
        for row in rows:
            verdict = (
                "PASS" if row.passed and not row.unsafe else ("UNSAFE" if row.unsafe else "FAIL")
            )
            progress.step(
                f"{verdict} {row.scenario} / {row.mode}: {row.accepted} of {row.attempts} "
                f"accepted; honest {_figures(row.honest)}"
            )
        run.rows.extend(rows)
    run.seconds = time.monotonic() - began
    return run


def _figures(latency: Latency) -> str:
    figures = f"{latency.count} ops"
    if latency.p50_ms is not None:
        figures += f", p50 {latency.p50_ms:.0f} ms, p99 {latency.p99_ms:.0f} ms"
    if latency.failures or latency.p50_ms is None:
        figures += f", {latency.failures} failed"
    if latency.unfinished:
        figures += f", {latency.unfinished} awaiting the notary"
    return figures


def attack(
    chosen: Sequence[Scenario],
    options: Options,
    home: Path | None,
    *,
    keep: bool = False,
    progress: Progress,
) -> Run:
    """Run `chosen` against the network in `home` (started if it is not there yet), or
    against a network of the suite's own shape in a temporary directory, taken down after."""
    temporary = home is None
    where = Path(tempfile.mkdtemp(prefix="dlt-attacks-")) / "net" if home is None else home
    localnet = Localnet(where)
    created = not localnet.exists
    shape = SUITE_SHAPE
    try:
        with progress.working(f"Bringing up the network to attack in {localnet.home}"):
            localnet.up(shape, progress.step, timeout=300)
        network = AttackNetwork(localnet)
        return asyncio.run(
            run_scenarios(chosen, options, network, shape, progress, created=created)
        )
    except (LocalnetError, AttackNetworkError) as exc:
        raise AttackRunError(str(exc)) from exc
    finally:
        if created and not keep:
            progress.step("Taking the network down")
            localnet.down(progress.step)
            if temporary:
                shutil.rmtree(where.parent, ignore_errors=True)
