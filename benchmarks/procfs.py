"""CPU time and resident memory of the network's processes, read from /proc.

Each component counts its whole process tree (the broker's supervisor runs RabbitMQ's
Erlang VM as a child, PostgreSQL forks a backend per connection): every process whose
session is the component's root PID (localnet starts each in a session of its own) or whose
parent chain leads to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.network import Component

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    session: int
    cpu_ticks: int
    rss_pages: int


def _read(pid_dir: Path) -> ProcStat | None:
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After "(comm)": state ppid pgrp session ... utime(12) stime(13) ... rss(22)
    return ProcStat(
        pid=int(pid_dir.name),
        ppid=int(fields[1]),
        session=int(fields[3]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        rss_pages=int(fields[21]),
    )


def process_table() -> dict[int, ProcStat]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _read(entry)) is not None:
            table[stat.pid] = stat
    return table


def tree(root: int, table: dict[int, ProcStat]) -> list[ProcStat]:
    """`root` and every process in its session or descended from it."""
    children: dict[int, list[int]] = {}
    for stat in table.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found = {root} | {pid for pid, stat in table.items() if stat.session == root}
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return [table[pid] for pid in found if pid in table]


@dataclass(frozen=True)
class Usage:
    """CPU clock ticks used so far by each process of each component, and resident bytes."""

    cpu_ticks: dict[str, dict[int, int]]
    rss_bytes: dict[str, int]


def sample(components: Iterable[Component], extra_pids: dict[str, int] | None = None) -> Usage:
    """One reading of every component (and of `extra_pids`, single processes by name)."""
    table = process_table()
    cpu: dict[str, dict[int, int]] = {}
    rss: dict[str, int] = {}
    for component in components:
        stats = tree(component.pid, table)
        cpu[component.name] = {s.pid: s.cpu_ticks for s in stats}
        rss[component.name] = sum(s.rss_pages for s in stats) * PAGE_SIZE
    for name, pid in (extra_pids or {}).items():
        stat = table.get(pid)
        cpu[name] = {pid: stat.cpu_ticks} if stat else {}
        rss[name] = stat.rss_pages * PAGE_SIZE if stat else 0
    return Usage(cpu, rss)


def cpu_seconds(before: Usage, after: Usage) -> dict[str, float]:
    """CPU seconds each component used between two readings. Processes are compared one by
    one: one that started in between counts from zero, one that ended is not seen at all."""
    used = {}
    for name, processes in after.cpu_ticks.items():
        earlier = before.cpu_ticks.get(name, {})
        ticks = sum(now - earlier.get(pid, 0) for pid, now in processes.items())
        used[name] = ticks / CLOCK_TICKS
    return used
