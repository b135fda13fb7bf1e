"""The last lines of a log or a command's output: what a BrokerError shows the user."""

from __future__ import annotations

from pathlib import Path


def tail_file(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no file)"
    return tail_text(text, lines) or "(empty)"


def tail_text(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
