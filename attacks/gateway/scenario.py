"""The gateway delay-and-discard scenario (issue 10 part B) in the attack suite's interface.

One row per run of `run_gateway_attack`. A row with its mitigation on passes when no order was
lost and the equilibrium (clearing price, cleared quantity) equals the honest window's; a row
with the mitigation off is `unsafe`: it documents what the adversary gets without it and never
fails the suite.
"""

from __future__ import annotations

import statistics
from typing import ClassVar

from attacks.gateway.market import MarketOutcome
from attacks.gateway.run import GatewayResult, run_gateway_attack
from attacks.scenario import AttackContext, Latency, Row


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
    full_count: ClassVar[int] = 1

    async def run(self, context: AttackContext) -> list[Row]:
        result = await run_gateway_attack(context.home, context.progress.step)
        return rows(result)


SCENARIO = GatewayScenario()
