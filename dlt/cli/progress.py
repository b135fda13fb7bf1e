"""Progress of long work, on stderr: each step with the time since the start, live at a terminal.

    progress = Progress()
    progress.step("Starting the broker")          # [   0.0s] Starting the broker
    with progress.working("Waiting for the nodes"):
        ...                                       # a spinner and a clock, at a terminal only
    with progress.counting("Day 1", total=96) as count:
        for window in windows:
            ...
            count.advance(note="cleared 12.5 kWh")  # a bar at a terminal; else a line per 1/8th
    progress.step("Done")

Step lines are the same at a terminal and in a pipe (no escape codes in a pipe), so a log of a
run reads like the run; only the spinner and the bar are live, at a terminal, and vanish when
their block ends. Results belong on stdout; progress never writes there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as LiveProgress
from rich.text import Text

PIPED_REPORTS = 8
"""Lines a counted block prints when not at a terminal: one per eighth of the total."""


class Progress:
    """Reports the steps of one piece of long work; see the module docstring."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`live` (default: whether `stream` is a terminal) shows spinners and bars; `quiet`
        reports nothing at all, for callers that make progress optional."""
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._live = not quiet and (self._stream.isatty() if live is None else live)
        self._clock = clock
        self._started = clock()
        self._display: LiveProgress | None = None
        self._spinner: TaskID | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since this object was made."""
        return self._clock() - self._started

    def line(self, text: str) -> str:
        """`text` as a step line: `[  12.3s] text`."""
        return f"[{self.elapsed:6.1f}s] {text}"

    def step(self, text: str) -> None:
        """Report that `text` is happening now (or just happened)."""
        if self._quiet:
            return
        line = self.line(text)
        if self._display is not None:
            self._display.console.print(Text(line))
            if self._spinner is not None:
                self._display.update(self._spinner, description=text)
        else:
            print(line, file=self._stream, flush=True)

    @contextmanager
    def working(self, text: str) -> Iterator[None]:
        """Report `text` as a step; while the block runs, a spinner and a clock at a terminal,
        beside the latest step. Steps reported inside it print above the spinner."""
        self.step(text)
        if not self._live or self._display is not None:
            yield
            return
        with self._show(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()):
            assert self._display is not None
            self._spinner = self._display.add_task(text, total=None)
            try:
                yield
            finally:
                self._spinner = None

    @contextmanager
    def counting(self, text: str, total: int) -> Iterator[Counter]:
        """Report `text` as a step, then a block that works through `total` items, each
        reported with `Counter.advance`."""
        self.step(text)
        counter = Counter(self, text, total)
        if not self._live or self._display is not None:
            yield counter
            return
        with self._show(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
        ):
            assert self._display is not None
            counter.task = self._display.add_task(text, total=total, note="")
            yield counter

    @contextmanager
    def _show(self, *columns: ProgressColumn) -> Iterator[None]:
        console = Console(file=self._stream, force_terminal=True, highlight=False, markup=False)
        display = LiveProgress(
            *columns,
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._display = display
        try:
            with display:
                yield
        finally:
            self._display = None

    def advanced(self, counter: Counter, note: str) -> None:
        """`counter` moved on by one: update the bar, or print a line now and then."""
        if self._display is not None and counter.task is not None:
            self._display.update(counter.task, advance=1, note=note)
            return
        every = max(1, counter.total // PIPED_REPORTS)
        if counter.done % every == 0 or counter.done == counter.total:
            suffix = f"  {note}" if note else ""
            self.step(f"{counter.text}: {counter.done} of {counter.total}{suffix}")


class Counter:
    """Counts the items of a `Progress.counting` block."""

    def __init__(self, progress: Progress, text: str, total: int) -> None:
        self.progress = progress
        self.text = text
        self.total = total
        self.done = 0
        self.task: TaskID | None = None

    def advance(self, note: str = "") -> None:
        """One more item done; `note` says where things stand (shown with the count)."""
        self.done += 1
        self.progress.advanced(self, note)
