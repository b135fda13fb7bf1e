"""Supervising the processes `up` starts: spawning each in its own session, recording its PID
with its start time (so a PID the system reuses never counts as ours), waiting for it to become
ready, and stopping exactly the process groups we started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from deploy.localnet.errors import LocalnetError

Tail = Callable[[str, int], str]
"""The last lines of a component's log: what an error shows when a component dies starting."""


class Processes:
    """The components started under `directory` (one `<component>.pid` each)."""

    def __init__(self, directory: Path, tail: Tail) -> None:
        self.directory = directory
        self._tail = tail

    def pid_file(self, component: str) -> Path:
        return self.directory / f"{component}.pid"

    def spawn(self, component: str, argv: list[str], log: Path, cwd: Path) -> int:
        """Start `argv` in a session of its own, output to `log`, and record its PID."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.pid_file(component).write_text(f"{process.pid} {start_time(process.pid)}")
        return process.pid

    def recorded(self, component: str) -> tuple[int, str] | None:
        try:
            pid, started = self.pid_file(component).read_text().split()
            return int(pid), started
        except (OSError, ValueError):
            return None

    def pid(self, component: str) -> int | None:
        recorded = self.recorded(component)
        return recorded[0] if recorded else None

    def alive(self, component: str) -> bool:
        """Whether the process `up` started for `component` still runs: same PID and the
        same start time, so a PID the system has since given to another process never counts."""
        recorded = self.recorded(component)
        return recorded is not None and start_time(recorded[0]) == recorded[1]

    def wait_for(self, ready: Callable[[], bool], component: str, timeout: float) -> None:
        """Return once `ready()`; a LocalnetError if `component` dies or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.alive(component):
                raise LocalnetError(
                    f"{component} stopped while starting; its log ends with:\n"
                    f"{self._tail(component, 15)}"
                )
            if time.monotonic() > deadline:
                raise LocalnetError(f"{component} did not become ready within {timeout:.0f} s")
            time.sleep(0.2)


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot; "" when it does not exist or has
    exited (a zombie waiting to be reaped still has its PID but is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] in ("Z", "X") else fields[19]


def await_exit(pid: int, timeout: float) -> None:
    """Wait until `pid` has exited (a zombie counts as exited), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while start_time(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop_all(pids: list[int], grace: float) -> None:
    """Stop several process groups at once: SIGTERM to all, then wait for all."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(start_time(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if start_time(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def stop(pid: int, grace: float) -> None:
    """SIGTERM the process group `pid` leads; SIGKILL it if it is still there after `grace` s."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not start_time(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
