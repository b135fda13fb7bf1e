"""The progress journal: one JSON line per finished interval, so a crashed run resumes.

The first line records what the run is (community, mechanism, backend); resuming with other
settings is refused rather than mixing two runs' figures. Each line is flushed and synced
before the next interval starts, so at most the interval in progress is redone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from cordapp_energy.simulator.economics import IntervalOutcome


class JournalMismatchError(ValueError):
    """The journal belongs to a run with other settings."""


class Journal:
    def __init__(self, path: Path, header: dict[str, Any], *, sync: bool = True) -> None:
        self.sync = sync
        """fsync each line; the engine, which reruns a month in seconds, need not."""
        self.path = path
        self.header = header
        self.done: dict[tuple[int, int], IntervalOutcome] = {}
        self._file: IO[str] | None = None

    def open(self, resume: bool) -> None:
        """Start a new journal, or with `resume` read the finished intervals of this one."""
        if resume and self.path.exists():
            lines = self.path.read_text().splitlines()
            if lines:
                recorded = json.loads(lines[0])
                if recorded != self.header:
                    raise JournalMismatchError(
                        f"{self.path} records another run ({recorded}); start a fresh one with "
                        "another --out, or resume with the same settings"
                    )
                kept = [lines[0]]
                for line in lines[1:]:
                    try:
                        outcome = IntervalOutcome.from_json(json.loads(line))
                    except (json.JSONDecodeError, TypeError):
                        break  # the line being written when the run crashed
                    self.done[(outcome.day, outcome.interval)] = outcome
                    kept.append(line)
                self.path.write_text("".join(line + "\n" for line in kept))
                self._file = self.path.open("a")
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w")
        self._write(self.header)

    def record(self, outcome: IntervalOutcome) -> None:
        self.done[(outcome.day, outcome.interval)] = outcome
        self._write(outcome.to_json())

    def _write(self, data: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(data, sort_keys=True) + "\n")
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
