"""Replay: old signed transactions, old P2P session messages and old notarisation requests.

The accomplice pays the market operator a real coin, then re-sends that transaction in new
sessions and its very session messages byte for byte: the operator's ledger must not move.
The attacker sends one replica a request to spend a coin, spends the coin otherwise, and replays
the old request to every replica: it must not gather a quorum.
"""

from __future__ import annotations

from attacks.flows.replay import Replay
from attacks.network import ACCOMPLICE, ATTACKER, CURRENCY, OPERATOR
from attacks.observe import ledger, until_recorded
from attacks.scenario import AttackContext, Row
from attacks.supply import attacker_coins

TIMES = 3
"""Replays per attempt."""


class ReplayScenario:
    name = "replay"
    summary = "old signed transactions, P2P messages and notarisation requests re-sent"
    default_count = 30
    full_count = 600

    async def run(self, context: AttackContext) -> list[Row]:
        per_kind = max(1, -(-context.count(self) // len(Replay)))
        coins = await attacker_coins(context.network, per_kind)
        await attacker_coins(context.network, 1, owner=ACCOMPLICE)
        rows = []
        async with (
            context.rpc(OPERATOR) as victim,
            context.rpc(ATTACKER) as attacker,
            context.rpc(ACCOMPLICE) as accomplice,
        ):
            paid = await accomplice.run_flow(
                "energy.Pay", {"recipient": OPERATOR, "amount": 100, "currency": CURRENCY}
            )
            assert paid is not None
            old_tx = str(paid.decode().id)
            await until_recorded(victim, old_tx)
            for kind in Replay:
                before = await ledger(victim)
                accepted: list[str] = []
                sent = 0
                with context.progress.counting(f"replay, {kind}", total=per_kind) as counter:
                    async with context.honest_load() as measured:
                        for attempt in range(per_kind):
                            arguments: dict[str, object] = {"kind": kind.value, "times": TIMES}
                            if kind is Replay.NOTARISATION_REQUEST:
                                arguments |= {"victim": ACCOMPLICE, "coin": coins[attempt]}
                            else:
                                arguments |= {"victim": OPERATOR, "tx_id": old_tx}
                            replayer = (
                                attacker if kind is Replay.NOTARISATION_REQUEST else accomplice
                            )
                            value = await replayer.run_flow("attack.Replay", arguments)
                            assert value is not None
                            outcome = value.decode()
                            sent += outcome.sent
                            if outcome.notarised:
                                accepted.append(
                                    f"replayed request for {outcome.tx_id} notarised after its "
                                    "input was spent by another transaction"
                                )
                            counter.advance(note=f"{sent} replays sent")
                after = await ledger(victim)
                if kind is not Replay.NOTARISATION_REQUEST and after != before:
                    accepted.append(f"the operator's ledger changed: {before} -> {after}")
                rows.append(
                    Row(
                        scenario=self.name,
                        mode=kind.value,
                        attempts=per_kind,
                        accepted=len(accepted),
                        honest=measured(),
                        baseline=context.baseline,
                        notes=f"{sent} replays sent in {per_kind} attempts; operator's ledger "
                        f"{before.transactions} transactions before, {after.transactions} after",
                        accepted_what=tuple(accepted[:5]),
                    )
                )
        return rows


SCENARIO = ReplayScenario()
