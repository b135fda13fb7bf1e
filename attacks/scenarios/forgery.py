"""Forgery: tampered transactions, signatures by the wrong key, states under a foreign
contract, money without its issuer, energy without its producer, inflated notarised spends.

Each forgery is handed to the market operator (an honest node with no traffic of its own) as
if finalised; the row counts those the operator recorded, asked over the operator's RPC, and
notes why the operator's own flow refused them.
"""

from __future__ import annotations

from attacks.flows.forgery import Forgery
from attacks.flows.notarising import ACCEPTED
from attacks.network import ATTACKER, BANK, HONEST_PAYEE, OPERATOR
from attacks.observe import failed_flows, ledger, recorded
from attacks.scenario import AttackContext, Row
from attacks.supply import attacker_coins


class ForgeryScenario:
    name = "forgery"
    summary = "forged transactions handed to an honest node as finalised"
    default_count = 30
    full_count = 600

    async def run(self, context: AttackContext) -> list[Row]:
        kinds = list(Forgery)
        per_kind = max(1, -(-context.count(self) // len(kinds)))
        coins = await attacker_coins(context.network, per_kind * len(kinds))
        rows = []
        async with context.rpc(OPERATOR) as victim, context.rpc(ATTACKER) as attacker:
            for kind in kinds:
                before = await ledger(victim)
                failed_before = await failed_flows(victim)
                accepted: list[str] = []
                refusals: set[str] = set()
                with context.progress.counting(f"forgery, {kind}", total=per_kind) as counter:
                    async with context.honest_load() as measured:
                        for _ in range(per_kind):
                            value = await attacker.run_flow(
                                "attack.Forge",
                                {
                                    "kind": kind.value,
                                    "victim": OPERATOR,
                                    "issuer": BANK,
                                    "producer": HONEST_PAYEE,
                                    "coin": coins.pop(),
                                },
                            )
                            assert value is not None
                            outcome = value.decode()
                            if await recorded(victim, str(outcome.tx_id)):
                                accepted.append(f"{kind} transaction {outcome.tx_id} recorded")
                            if outcome.refusal == ACCEPTED:
                                refusals.add("the operator's flow ended without an error")
                            counter.advance(note=f"{len(accepted)} recorded")
                after = await ledger(victim)
                failed = await failed_flows(victim)
                refusals |= {_gist(m) for f, m in failed.items() if f not in failed_before}
                holdings = (before.unconsumed, before.consumed) != (
                    after.unconsumed,
                    after.consumed,
                )
                if holdings and not accepted:
                    accepted.append(f"the operator's vault changed: {before} -> {after}")
                chain = after.transactions - before.transactions
                if chain:
                    refusals.add(
                        f"{chain} genuine back-chain transactions recorded while resolving, "
                        "vault unchanged"
                    )
                rows.append(
                    Row(
                        scenario=self.name,
                        mode=kind.value,
                        attempts=per_kind,
                        accepted=len(accepted),
                        honest=measured(),
                        baseline=context.baseline,
                        notes="refused: " + " | ".join(sorted(refusals)),
                        accepted_what=tuple(accepted[:5]),
                    )
                )
        return rows


def _gist(refusal: str) -> str:
    """The victim's refusal, short enough for a report line."""
    text = " ".join(refusal.split())
    return text if len(text) <= 160 else text[:157] + "..."


SCENARIO = ForgeryScenario()
