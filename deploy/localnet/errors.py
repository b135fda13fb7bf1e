"""The local network's typed failure, raised by every part of it; the CLI prints its message."""

from __future__ import annotations


class LocalnetError(Exception):
    """The local network could not be created, started or stopped; the message says why."""
