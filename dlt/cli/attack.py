"""`dlt attack list|run`: the attack suite against a real local network (`attacks/`).

The suite lives in the `attacks` package of the source checkout; this module is its command
line, imported only when an attack command runs (nodes never need it).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.cli.progress import Progress
from dlt.cli.table import table

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers

DEFAULT_REPORT_DIR = Path("attacks")


def _suite() -> tuple[Any, Any, Any, Any]:
    try:
        import attacks.registry as registry
        import attacks.report as report
        import attacks.runner as runner
        import attacks.scenario as scenario
    except ImportError as exc:
        raise CommandError(
            f"the attack suite is not installed with this dlt ({exc}); install the project "
            "from its source checkout (pip install -e .)"
        ) from exc
    return registry, runner, report, scenario


def register(subparsers: Subparsers) -> None:
    group = add_group(
        subparsers, "attack", summary="attack a local network and report what got through"
    )
    listing = group.add_parser("list", help="list the attack scenarios")
    listing.set_defaults(handler=list_command)
    run = group.add_parser(
        "run",
        help="run a scenario (or all) against a local network",
        description="Run attack scenarios against the local network in --home (started if "
        "missing; kept), or against a network of the suite's own shape in a temporary "
        "directory, taken down afterwards. Writes report.json and report.md.",
    )
    run.add_argument("name", help="a scenario from `dlt attack list`, or all")
    run.add_argument("--count", type=int, help="attempts per scenario (default: its own)")
    run.add_argument("--seed", type=int, default=1, help="random seed: a run repeats (default 1)")
    run.add_argument("--full", action="store_true", help="the long counts of make attacks-full")
    run.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="also run f + 1 faulty replicas, to show what the fault tolerance protects",
    )
    run.add_argument(
        "--mode",
        action="append",
        default=[],
        metavar="MODE",
        help="only this Byzantine mode in the double-spend race (repeatable), e.g. equivocate",
    )
    run.add_argument("--home", type=Path, help="the local network to attack (started if missing)")
    run.add_argument("--keep", action="store_true", help="leave a network this run started up")
    run.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help=f"where report.json and report.md go (default {DEFAULT_REPORT_DIR}/)",
    )
    run.set_defaults(handler=run_command)


def list_command(args: argparse.Namespace) -> int:
    registry, *_ = _suite()
    rows = [(s.name, s.default_count, s.full_count, s.summary) for s in registry.scenarios()]
    print(table(("scenario", "attempts", "full", "what it tries"), rows, empty="no scenarios"))
    return EXIT_OK


def run_command(args: argparse.Namespace) -> int:
    registry, runner, report, scenario = _suite()
    if args.count is not None and args.count < 1:
        raise CommandError("--count must be at least 1")
    try:
        chosen = registry.scenarios() if args.name == "all" else [registry.scenario(args.name)]
    except registry.UnknownScenarioError as exc:
        raise CommandError(str(exc)) from exc
    options = scenario.Options(
        count=args.count,
        seed=args.seed,
        full=args.full,
        allow_unsafe=args.allow_unsafe,
        modes=tuple(args.mode),
    )
    progress = Progress()
    try:
        run = runner.attack(chosen, options, args.home, keep=args.keep, progress=progress)
    except (runner.AttackRunError, ValueError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    json_path, md_path = report.write(run, args.report_dir)
    print(table(report.HEADERS, [report.cells(row) for row in run.rows], empty="no rows"))
    print(f"\nReport: {md_path} and {json_path}; repeat with: {report.repeat_command(run)}")
    if run.failed:
        raise CommandError(f"attacks got through: {report.summary_of_failures(run)}")
    return EXIT_OK
