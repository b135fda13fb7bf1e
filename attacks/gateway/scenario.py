"""The gateway delay-and-discard scenario (issue 10 part B) in the attack suite's interface.

One row per run of `run_gateway_attack`. A row with its mitigation on passes when no order was
lost and the equilibrium (clearing price, cleared quantity) equals the honest window's; a row
with the mitigation off is `unsafe`: it documents what the adversary gets without it and never
fails the suite.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import ClassVar

from attacks.gateway.market import MarketOutcome
from attacks.gateway.run import NETWORK_COMMAND, GatewayResult, run_gateway_attack
from attacks.scenario import AttackContext, Latency, Row
from deploy.localnet import Localnet, Shape

GATEWAY_SHAPE = Shape(notaries=2, producers=2, consumers=3)


def _latency(outcome: MarketOutcome) -> Latency:
    times = sorted(o.seconds * 1000 for o in outcome.orders if o.seconds is not None)
    done = [o for o in outcome.orders if o.status == "recorded"]
    if not times:
        return Latency(0, None, None, failures=len(outcome.orders))
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return Latency(
        len(done), statistics.median(times), p99, failures=len(outcome.orders) - len(done)
    )


def rows(result: GatewayResult) -> list[Row]:
    honest = result.honest
    baseline = _latency(honest)
    found = []
    document = result.as_json()
    for run, data in zip(result.runs[1:], document["runs"][1:], strict=True):
        mitigated = run.mitigated
        outcome = run.outcome
        unchanged = (outcome.clearing_price, outcome.cleared_wh) == (
            honest.clearing_price,
            honest.cleared_wh,
        )
        accepted = len(outcome.lost) + (0 if unchanged else 1)
        found.append(
            Row(
                scenario=GatewayScenario.name,
                mode=f"{run.adversary}, {run.mitigation}",
                attempts=1,
                accepted=accepted,
                honest=_latency(outcome),
                baseline=baseline,
                notes=(
                    f"price {outcome.clearing_price} (honest {honest.clearing_price}), "
                    f"cleared {outcome.cleared_wh} Wh (honest {honest.cleared_wh}); lost: "
                    + (", ".join(f"{s.party} {s.side}" for s in outcome.lost) or "none")
                ),
                accepted_what=tuple(f"{s.party} {s.side} lost" for s in outcome.lost),
                unsafe=not mitigated,
                extra=data,
            )
        )
    return found


class GatewayScenario:
    name: ClassVar[str] = "gateway-delay-discard"
    summary: ClassVar[str] = (
        "a producer's gateway (TCP path) or a dishonest broker operator delays and drops "
        "competing orders; resubmission and end-to-end sealing keep the equilibrium"
    )
    default_count: ClassVar[int] = 1
    full_count: ClassVar[int] = 2
    """Markets measured, each on a fresh network of its own."""

    async def run(self, context: AttackContext) -> list[Row]:
        found: list[Row] = []
        # A market takes minutes on its own network, so a suite-wide --count is capped here.
        for _ in range(min(context.count(self), self.full_count)):
            found += await self._once(context)
        return found

    async def _once(self, context: AttackContext) -> list[Row]:
        """On a network of its own, of the shape its book needs, taken down after: the suite's
        network has one notary service and balances other scenarios moved (Consumer 1, the
        suite's honest payer, holds more than the market lets a consumer enrol with)."""
        home = Path(tempfile.mkdtemp(prefix="dlt-gateway-")) / "net"
        localnet = Localnet(home)
        context.progress.step(
            f"Starting a network for the gateway attack in {home} ({NETWORK_COMMAND})"
        )
        try:
            await asyncio.to_thread(localnet.up, GATEWAY_SHAPE, context.progress.step, 300.0)
            return rows(await run_gateway_attack(home, context.progress.step))
        finally:
            await asyncio.to_thread(localnet.down, context.progress.step)
            shutil.rmtree(home.parent, ignore_errors=True)


SCENARIO = GatewayScenario()
