"""`python -m cordapp_energy.simulator`: simulate an energy community trading for some days."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from cordapp_energy.simulator.profiles import CommunityParameters
from cordapp_energy.simulator.run import Simulation, check_conservation, format_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cordapp_energy.simulator",
        description="Simulate a peer-to-peer energy community on an in-process network.",
    )
    parser.add_argument("--days", type=int, default=1, help="days to simulate (default 1)")
    parser.add_argument("--prosumers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, help="keep the nodes' data here (default: temporary)")
    args = parser.parse_args(argv)
    if args.days < 1 or args.prosumers < 1 or args.consumers < 1:
        parser.error("--days, --prosumers and --consumers must be at least 1")
    parameters = CommunityParameters(
        prosumers=args.prosumers, consumers=args.consumers, seed=args.seed
    )
    if args.home is not None:
        args.home.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_simulate(args.home, parameters, args.days))
    with tempfile.TemporaryDirectory(prefix="dlt-sim-") as home:
        return asyncio.run(_simulate(Path(home), parameters, args.days))


async def _simulate(home: Path, parameters: CommunityParameters, days: int) -> int:
    simulation = Simulation(home, parameters)
    started = time.monotonic()
    market = await simulation.open()
    try:
        summary = await simulation.run(days)
        with simulation.progress.working("Checking that energy and money are conserved"):
            conservation = await check_conservation(market, summary)
    finally:
        with simulation.progress.working("Stopping the nodes"):
            await market.stop()
    print("\nSummary")
    print(format_summary(summary, conservation, time.monotonic() - started))
    return 0 if conservation.holds else 1


if __name__ == "__main__":
    sys.exit(main())
