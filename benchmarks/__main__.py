"""`python -m benchmarks`: run the benchmark and write its report (`make bench`)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.plan import PLANS, SMALL
from benchmarks.runner import Options, run_harness
from benchmarks.workloads import WORKLOADS


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark a real local network and write report.json, report.md and plots.",
    )
    parser.add_argument(
        "--plan",
        choices=sorted(PLANS),
        default=SMALL.name,
        help="how many transactions (bench, bench-full, smoke)",
    )
    parser.add_argument(
        "--replicas", type=int, default=4, help="replicas of the notary (default 4)"
    )
    parser.add_argument("--notaries", type=int, default=1, help="notary services (default 1)")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the vaults live",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(WORKLOADS),
        default=(),
        metavar="WORKLOAD",
        help=f"run only these: {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--skip", nargs="+", choices=sorted(WORKLOADS), default=(), metavar="WORKLOAD"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        help="concurrency levels of the DvP trade (closed loop)",
    )
    parser.add_argument("--rate", type=float, help="arrivals per second of the open-loop DvP trade")
    parser.add_argument(
        "--notary-count",
        type=int,
        help="notarisations measured by notary-only (long enough to compare builds)",
    )
    parser.add_argument(
        "--no-companion", action="store_true", help="skip the network with the other notary size"
    )
    parser.add_argument(
        "--conditions", default="", help="what else ran on the machine, for the report"
    )
    parser.add_argument(
        "--out", type=Path, help="report directory (default benchmarks/results/<timestamp>)"
    )
    args = parser.parse_args(argv)
    plan = PLANS[args.plan]
    if args.concurrency:
        per_worker = max(plan.dvp.values()) // max(plan.dvp)
        plan = replace(
            plan, dvp={c: max(plan.dvp.get(1, 20), per_worker * c) for c in args.concurrency}
        )
    if args.rate:
        plan = replace(plan, open_rate=args.rate)
    if args.notary_count is not None:
        if args.notary_count < 1:
            parser.error("--notary-count must be at least 1")
        plan = replace(plan, notary_count=args.notary_count)
    return Options(
        plan=plan,
        replicas=args.replicas,
        notaries=args.notaries,
        database=args.database,
        only=tuple(args.only),
        skip=tuple(args.skip),
        companion=not args.no_companion,
        out=args.out,
        conditions=args.conditions,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    try:
        out = run_harness(options)
    except KeyboardInterrupt:
        print("interrupted; every network the benchmark started was stopped", file=sys.stderr)
        return 130
    print(f"Report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
