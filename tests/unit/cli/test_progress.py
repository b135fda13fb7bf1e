"""Progress lines: elapsed time on every step, live only at a terminal, silent when quiet."""

from __future__ import annotations

import io

from dlt.cli.progress import PIPED_REPORTS, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_step_shows_the_seconds_since_the_work_began():
    clock, out = Clock(), io.StringIO()
    progress = Progress(out, clock=clock)

    progress.step("Starting the broker")
    clock.now += 2.25
    progress.step("Broker ready")

    assert out.getvalue().splitlines() == [
        "[   0.0s] Starting the broker",
        "[   2.2s] Broker ready",
    ]


def test_working_reports_what_starts_and_prints_only_steps_in_a_pipe():
    clock, out = Clock(), io.StringIO()
    progress = Progress(out, clock=clock)

    with progress.working("Waiting for 7 nodes"):
        clock.now += 1.0
        progress.step("producer-1 is up")

    assert out.getvalue().splitlines() == [
        "[   0.0s] Waiting for 7 nodes",
        "[   1.0s] producer-1 is up",
    ]


def test_counting_in_a_pipe_prints_a_line_per_eighth_and_at_the_end():
    out = io.StringIO()
    progress = Progress(out, clock=Clock())

    with progress.counting("Day 1", total=20) as count:
        for number in range(20):
            count.advance(note=f"window {number}")

    lines = out.getvalue().splitlines()
    assert lines[0] == "[   0.0s] Day 1"
    counts = [line.split("Day 1: ")[1].split("  ")[0] for line in lines[1:]]
    assert counts == [f"{n} of 20" for n in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]
    assert lines[-1].endswith("window 19")
    assert len(lines) - 1 <= 20 // (20 // PIPED_REPORTS)


def test_at_a_terminal_steps_still_print_and_the_live_display_is_gone_afterwards():
    out = Terminal()
    progress = Progress(out, clock=Clock())

    with progress.working("Waiting for the nodes"):
        progress.step("producer-1 is up")
    with progress.counting("Day 1", total=3) as count:
        for _ in range(3):
            count.advance()
    progress.step("done")

    text = out.getvalue()
    assert "[   0.0s] producer-1 is up" in text
    assert text.endswith("[   0.0s] done\n")
    assert "Day 1: 1 of 3" not in text


def test_quiet_progress_prints_nothing():
    out = Terminal()
    progress = Progress(out, quiet=True)

    with progress.working("Waiting"), progress.counting("Day 1", total=2) as count:
        progress.step("a step")
        count.advance()
        count.advance()

    assert out.getvalue() == ""
    assert count.done == 2
