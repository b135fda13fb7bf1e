"""`python -m cordapp_energy.simulator`: simulate a peer-to-peer energy community.

Three backends draw the same seeded data and orders: the ledger in process (the default, a
MockNetwork node per household), `--engine` (the market engine alone, no ledger: a month in
seconds) and `--network DIR` (a running `dlt localnet`, every flow through RPC). `--compare`
clears the same days under every mechanism on the engine and tabulates them. Each run writes
report.txt, bills.csv, run.png and journal.jsonl to --out; `--resume` continues a run that
stopped, from its journal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as daytime
from pathlib import Path

from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.simulator.economics import Tariff, bills
from cordapp_energy.simulator.journal import Journal, JournalMismatchError
from cordapp_energy.simulator.profiles import (
    INTERVALS_PER_DAY,
    REFERENCE_COMMUNITY,
    Community,
    CommunityParameters,
    PvModel,
)
from cordapp_energy.simulator.report import Totals, comparison_table
from cordapp_energy.simulator.run import (
    EngineBackend,
    MockLedgerBackend,
    RunResult,
    Simulation,
    profiles_of,
    write_report,
)
from dlt.cli.progress import Progress


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cordapp_energy.simulator",
        description="Simulate a peer-to-peer energy community (see the module docstring).",
    )
    parser.add_argument("--days", type=int, default=1, help="days to simulate (default 1)")
    parser.add_argument(
        "--community",
        choices=["small", "reference"],
        default="small",
        help="small: --prosumers/--consumers (default 4 and 4); reference: 12 and 68",
    )
    parser.add_argument("--prosumers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help=f"first day simulated (default {CommunityParameters.start}; on --network, the "
        "first day the network's meter certificates cover, and any day must be one they cover)",
    )
    parser.add_argument("--pv", choices=[m.value for m in PvModel], default=PvModel.CLEAR_SKY.value)
    parser.add_argument(
        "--mechanism", choices=[m.value for m in Mechanism], default=Mechanism.UNIFORM.value
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--engine", action="store_true", help="the market engine, no ledger")
    where.add_argument("--network", type=Path, metavar="DIR", help="a running dlt localnet")
    where.add_argument(
        "--compare", action="store_true", help="every mechanism on the engine, side by side"
    )
    parser.add_argument("--out", type=Path, help="where results go (default sim-results/<run>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--home", type=Path, help="keep in-process nodes' data here")
    parser.add_argument(
        "--intervals",
        default="0:96",
        metavar="A:B",
        help="simulate intervals A to B-1 of each day only (default 0:96, the whole day)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _default_start(args: argparse.Namespace, parameters: CommunityParameters) -> date:
    """The community's usual first day, or on a local network whose meters were certified
    later, the first day they cover (a meter attests only intervals its certificate covers)."""
    if args.network is None:
        return parameters.start
    from cordapp_energy.simulator.network import first_metered_day

    return max(parameters.start, first_metered_day(args.network))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.days < 1 or args.prosumers < 1 or args.consumers < 1:
        parser.error("--days, --prosumers and --consumers must be at least 1")
    if args.community == "reference":
        parameters = REFERENCE_COMMUNITY
    else:
        parameters = CommunityParameters(prosumers=args.prosumers, consumers=args.consumers)
    parameters = CommunityParameters(
        **{
            **parameters.__dict__,
            "seed": args.seed,
            "pv_model": PvModel(args.pv),
            "start": args.start or _default_start(args, parameters),
        }
    )
    community = Community(parameters)
    try:
        first, last = (int(part) for part in args.intervals.split(":"))
    except ValueError:
        parser.error("--intervals takes A:B, e.g. 40:56")
    if not 0 <= first < last <= INTERVALS_PER_DAY:
        parser.error(f"--intervals must lie within 0:{INTERVALS_PER_DAY}")
    args.window_range = range(first, last)
    mode = (
        "compare"
        if args.compare
        else "engine"
        if args.engine
        else "network"
        if args.network
        else "ledger"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.out or Path("sim-results") / f"{mode}-{stamp}"
    progress = Progress(quiet=args.quiet)
    try:
        if args.compare:
            return _compare(community, args.days, out, progress)
        return asyncio.run(_simulate(args, community, mode, out, progress))
    except JournalMismatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"interrupted; every finished interval is in {out}/journal.jsonl: add --resume to "
            "the same command to go on from there",
            file=sys.stderr,
        )
        return 130


def _header(
    community: Community, days: int, mode: str, mechanism: Mechanism, intervals: str
) -> dict[str, object]:
    p = community.parameters
    return {
        "run": mode,
        "days": days,
        "mechanism": mechanism.value,
        "prosumers": p.prosumers,
        "consumers": p.consumers,
        "seed": p.seed,
        "pv_model": p.pv_model.value,
        "start": p.start.isoformat(),
        "intervals": intervals,
    }


def _title(community: Community, days: int, where: str, mechanism: Mechanism) -> str:
    p = community.parameters
    return (
        f"{p.prosumers} prosumers, {p.consumers} consumers, {days} day(s) from {p.start}, "
        f"{p.pv_model.value} PV, seed {p.seed}: {mechanism.value} clearing, {where}"
    )


def _compare(community: Community, days: int, out: Path, progress: Progress) -> int:
    runs = {}
    profiles = profiles_of(community, days)
    households = [h.name for h in community.households]
    for mechanism in Mechanism:
        target = out / mechanism.value
        journal = Journal(
            target / "journal.jsonl",
            _header(community, days, "engine", mechanism, "0:96"),
            sync=False,
        )
        journal.open(resume=False)
        started = time.monotonic()
        simulation = Simulation(
            community, days, EngineBackend(mechanism), journal, progress=progress
        )
        outcomes = asyncio.run(simulation.run())
        journal.close()
        result = RunResult(profiles, outcomes, time.monotonic() - started)
        write_report(
            target,
            _title(community, days, "market engine in process", mechanism),
            community,
            result,
        )
        runs[mechanism.value] = (result.totals, bills(profiles, households, outcomes, Tariff()))
        progress.step(f"{mechanism.value}: {days} day(s) cleared in {result.elapsed:.1f} s")
    table = comparison_table(runs)
    (out / "comparison.txt").write_text(table + "\n")
    print(f"\nMechanisms on the same {days} day(s) ({out}):\n{table}")
    return 0


async def _simulate(
    args: argparse.Namespace, community: Community, mode: str, out: Path, progress: Progress
) -> int:
    mechanism = Mechanism(args.mechanism)
    network = None
    if args.network is not None:
        from cordapp_energy.simulator.network import MeterValidityError, NetworkMarket

        network = NetworkMarket(
            args.network,
            [h.name for h in community.prosumers],
            [h.name for h in community.consumers],
        )
        first = datetime.combine(community.parameters.start, daytime(0), tzinfo=UTC)
        try:
            network.check_meters(first, first + timedelta(days=args.days))
        except MeterValidityError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    header = _header(community, args.days, mode, mechanism, args.intervals)
    journal = Journal(out / "journal.jsonl", header, sync=not args.engine)
    journal.open(resume=args.resume)
    fresh = not journal.done
    started = time.monotonic()
    notes: list[str] = []
    if args.engine:
        backend = EngineBackend(mechanism)
        where = "market engine in process"
        outcomes = await Simulation(
            community, args.days, backend, journal, progress=progress, intervals=args.window_range
        ).run()
        flows = 0
    elif network is not None:
        where = f"local network {args.network} (a node process per household, RPC)"
        try:
            with progress.working(
                "Connecting to the nodes" + (", publishing rules, funding" if fresh else "")
            ):
                ledger = await network.open(1_000_000, mechanism, setup=fresh)
            outcomes = await Simulation(
                community,
                args.days,
                ledger,
                journal,
                progress=progress,
                intervals=args.window_range,
            ).run()
            flows = ledger.flows
        finally:
            await network.close()
    else:
        where = "ledger in process (MockNetwork, a node per household)"
        with tempfile.TemporaryDirectory(prefix="dlt-sim-") as temporary:
            base = args.home or Path(temporary)
            base.mkdir(parents=True, exist_ok=True)
            backend = MockLedgerBackend(base, community, mechanism)
            try:
                with progress.working(
                    f"Starting {len(community.households)} households, operator, bank and notary"
                ):
                    ledger = await backend.open()
                outcomes = await Simulation(
                    community,
                    args.days,
                    backend,
                    journal,
                    progress=progress,
                    intervals=args.window_range,
                ).run()
                flows = ledger.flows
                with progress.working("Checking that energy and money are conserved"):
                    notes = await backend.conservation(Totals.of(outcomes).offered_wh)
            finally:
                await backend.close()
    journal.close()
    result = RunResult(
        profiles_of(community, args.days), outcomes, time.monotonic() - started, flows, notes
    )
    print()
    print(write_report(out, _title(community, args.days, where, mechanism), community, result))
    print(f"\nresults in {out}")
    return 1 if any("FAILED" in note for note in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
