"""The gateway attack's results as a Markdown table, one row per run."""

from __future__ import annotations

from typing import Any


def table(document: dict[str, Any]) -> str:
    lines = [
        "| adversary | mitigation | lost orders | cleared Wh | price | adversary sold Wh | "
        "adversary profit | ΔQ measured | ΔQ paper | surplus P1 / P2 / C1 / C2 / C3 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in document["runs"]:
        d = run.get("distortion", {})
        surplus = " / ".join(f"{v:g}" for v in run["surplus"].values())
        lines.append(
            f"| {run['adversary']} | {run['mitigation']} | "
            f"{', '.join(run['lost_orders']) or 'none'} | {run['cleared_wh']} | "
            f"{run['clearing_price']} | {run['sold_wh'].get('producer-1', 0)} | "
            f"{run['adversary_profit']:g} | {d.get('measured_delta_q_wh', '')} | "
            f"{d.get('paper_delta_q_wh', '')} | {surplus} |"
        )
    return "\n".join(lines)
