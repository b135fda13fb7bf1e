"""Malformed input: fuzzed P2P message bodies into an honest node's inbox, and fuzzed RPC
flow arguments and lookups, drawn by hypothesis from the run's seed (bounded by --count).

Passes when the node keeps running, answers, records nothing, leaves no flow stuck, and
refuses every bad RPC call with a clear error (invalid argument, not found, or a flow error
naming the problem) rather than an internal one.
"""

from __future__ import annotations

import asyncio
import time

from attacks.fuzzing import draw, flow_calls, lookups, p2p_bodies
from attacks.network import ATTACKER, BANK, OPERATOR
from attacks.observe import ledger
from attacks.scenario import AttackContext, Row
from dlt.rpc.client import (
    FlowFailedError,
    FlowStatus,
    RpcClient,
    RpcError,
    RpcInvalidArgument,
    RpcNotFoundError,
    StateStatus,
    VaultQuery,
)

BATCH = 100
UNCLEAR_ERRORS = ("AttributeError", "KeyError", "TypeError", "IndexError", "AssertionError")
"""Error types of a flow that failed on a bug rather than on the input it was given."""
SETTLE = 15.0


class MalformedInput:
    name = "malformed"
    summary = "hypothesis-fuzzed P2P payloads and RPC arguments: no crash, stuck flow or record"
    default_count = 300
    full_count = 5_000

    async def run(self, context: AttackContext) -> list[Row]:
        count = context.count(self)
        return [await self._p2p(context, count), await self._rpc(context, count)]

    async def _p2p(self, context: AttackContext, count: int) -> Row:
        bodies = await asyncio.to_thread(draw, p2p_bodies, count, context.options.seed)
        problems: list[str] = []
        async with context.rpc(OPERATOR) as victim, context.rpc(ATTACKER) as attacker:
            before, stuck_before = await ledger(victim), await _runnable(victim)
            with context.progress.counting("malformed P2P payloads", total=len(bodies)) as c:
                async with context.honest_load() as measured:
                    for start in range(0, len(bodies), BATCH):
                        chunk = [b.hex() for b in bodies[start : start + BATCH]]
                        await attacker.run_flow(
                            "attack.PublishRaw", {"recipient": OPERATOR, "payloads_hex": chunk}
                        )
                        for _ in chunk:
                            c.advance()
            problems += await _aftermath(context, victim, "market-operator", before, stuck_before)
        return Row(
            scenario=self.name,
            mode="p2p payloads",
            attempts=len(bodies),
            accepted=len(problems),
            honest=measured(),
            baseline=context.baseline,
            notes="random bytes, arbitrary CBOR and near-SessionMessages into the market "
            "operator's inbox; it kept running and answering, recorded nothing, left no flow stuck",
            accepted_what=tuple(problems[:5]),
        )

    async def _rpc(self, context: AttackContext, count: int) -> Row:
        calls = await asyncio.to_thread(draw, flow_calls(), count // 2, context.options.seed)
        reads = await asyncio.to_thread(draw, lookups, count - len(calls), context.options.seed)
        problems: list[str] = []
        outcomes: dict[str, int] = {}
        async with context.rpc(BANK) as bank:
            before, stuck_before = await ledger(bank), await _runnable(bank)
            total = len(calls) + len(reads)
            with context.progress.counting("malformed RPC arguments", total=total) as c:
                async with context.honest_load() as measured:
                    for name, arguments in calls:
                        verdict = await _call(bank, name, arguments)
                        _tally(verdict, f"{name}({arguments!r})", outcomes, problems)
                        c.advance(note=f"{len(problems)} unclear")
                    for method, argument in reads:
                        verdict = await _read(bank, method, argument)
                        _tally(verdict, f"{method}({argument!r})", outcomes, problems)
                        c.advance(note=f"{len(problems)} unclear")
            problems += await _aftermath(context, bank, "community-bank", before, stuck_before)
        seen = ", ".join(f"{n} {kind}" for kind, n in sorted(outcomes.items()))
        return Row(
            scenario=self.name,
            mode="rpc arguments",
            attempts=total,
            accepted=len(problems),
            honest=measured(),
            baseline=context.baseline,
            notes=f"fuzzed energy flow arguments and lookups at the bank: {seen}",
            accepted_what=tuple(problems[:5]),
        )


def _tally(verdict: str, what: str, outcomes: dict[str, int], problems: list[str]) -> None:
    outcomes[verdict.partition(":")[0]] = outcomes.get(verdict.partition(":")[0], 0) + 1
    if verdict.startswith("UNCLEAR"):
        problems.append(f"{what[:200]} -> {verdict[:300]}")


async def _call(client: RpcClient, name: str, arguments: dict[str, object]) -> str:
    try:
        await client.run_flow(name, arguments)
    except RpcInvalidArgument:
        return "invalid argument"
    except FlowFailedError as exc:
        if exc.error_type in UNCLEAR_ERRORS:
            return f"UNCLEAR: flow failed on {exc.error_type}: {exc.remote_message}"
        return "flow refused"
    except RpcError as exc:
        if type(exc) is RpcError:
            return f"UNCLEAR: {exc}"
        return f"refused ({type(exc).__name__})"
    return "UNCLEAR: the flow completed"


async def _read(client: RpcClient, method: str, argument: str) -> str:
    try:
        if method == "get_transaction":
            await client.get_transaction(argument)
        elif method == "flow_status":
            await client.flow_status(argument)
        else:
            await client.vault_query(VaultQuery(state_types=(argument,), status=StateStatus.ALL))
    except (RpcInvalidArgument, RpcNotFoundError):
        return "invalid argument or not found"
    except RpcError as exc:
        return f"UNCLEAR: {exc}" if type(exc) is RpcError else f"refused ({type(exc).__name__})"
    return "answered"


async def _runnable(client: RpcClient) -> int:
    return len(await client.list_flows([FlowStatus.RUNNABLE]))


async def _aftermath(
    context: AttackContext, client: RpcClient, slug: str, before: object, stuck_before: int
) -> list[str]:
    """What the fuzzing left: a dead node, records, or flows that do not finish."""
    member = context.network.member(slug)
    if not context.localnet.processes.alive(member.slug):
        return [f"{member.name} died under fuzzing"]
    problems = []
    after = await ledger(client)
    if after != before:
        problems.append(f"{member.name}'s ledger changed: {before} -> {after}")
    deadline = time.monotonic() + SETTLE
    while (stuck := await _runnable(client)) > stuck_before and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    if stuck > stuck_before:
        problems.append(f"{stuck - stuck_before} flows left running on {member.name}")
    return problems


SCENARIO = MalformedInput()
