"""Tables for the `dlt` command's default output, fitted to the terminal by `rich`.

rich sizes columns to the width available and wraps a cell that does not fit onto more lines
instead of running the row past the edge; we only say what each column holds. Hashes and
state refs are shortened as git shortens commit ids (the shortest prefix, at least
`MIN_ABBREV` hex digits, that tells apart every hash in the table); `--json` has them in full.

The width is `$COLUMNS`, else the terminal's, else `PIPE_WIDTH` when output is not a terminal,
so a script reading the output sees the same columns wherever it runs. Headers are bold at a
terminal only: piped output carries no escape codes (and none anywhere when `$NO_COLOR` is set).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence

from rich.box import Box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from dlt.rpc.render import brief

PIPE_WIDTH = 120
"""Columns when output goes to a file or pipe and `$COLUMNS` does not say."""
MIN_WIDTH = 40
LABEL_WIDTH = 24
"""A text column whose cells are all this short holds labels (a type, a status, a time): it
keeps its width, and longer text columns wrap to make room."""
MIN_ABBREV = 8
"""Fewest hex digits a shortened hash keeps: git's seven, and one more because the prefix is
unique only among what one table shows, not among everything on the ledger."""

_HASH = re.compile(r"(?P<hex>[0-9a-f]{32,})(?P<suffix>:\d+)?")
_EMBEDDED_HASH = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])")
_RULED = Box(
    "    \n    \n -  \n    \n    \n -  \n    \n    \n",
    ascii=True,
)
"""No borders: one space between columns and a row of dashes under the header."""


def terminal_width() -> int:
    """Columns to fit output into: `$COLUMNS`, else the terminal's, else `PIPE_WIDTH`."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    if sys.stdout.isatty():
        return max(MIN_WIDTH, shutil.get_terminal_size().columns)
    return PIPE_WIDTH


def styled() -> bool:
    """Whether output may carry colour and bold: a terminal, and no `$NO_COLOR`."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(renderable: RenderableType, width: int | None = None) -> str:
    """`renderable` as text `width` columns wide (default `terminal_width()`), without trailing
    spaces; escape codes only when `styled()`."""
    style = styled()
    console = Console(
        file=io.StringIO(),
        width=width or terminal_width(),
        force_terminal=style,
        color_system="standard" if style else None,
        no_color=not style,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(renderable)
    out = console.file
    assert isinstance(out, io.StringIO)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())


def cell(value: object) -> str:
    """`value` as the text of one cell: parties by name, nested data on one line."""
    text = value if isinstance(value, str) else brief(value)
    return " ".join(text.split())


def abbreviations(hashes: Iterable[str], minimum: int = MIN_ABBREV) -> int:
    """The shortest prefix length, at least `minimum`, at which the distinct `hashes` differ."""
    distinct = set(hashes)
    length = minimum
    longest = max((len(h) for h in distinct), default=minimum)
    while length < longest and len({h[:length] for h in distinct}) < len(distinct):
        length += 1
    return length


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    empty: str = "",
    width: int | None = None,
) -> str:
    """Rows under upper-case headers, fitted to `width` columns; `empty` when there are none.

    Numbers are right-aligned; hashes, alone or within text, are shortened to unique
    prefixes; numbers, hashes and short labels keep their width while longer text wraps onto
    more lines when the row is too wide.
    """
    cells = [[cell(value) for value in row] for row in rows]
    if not cells:
        return empty
    kinds = [_kind([row[i] for row in cells]) for i in range(len(headers))]
    shown = _shorten_hashes(cells)
    grid = Table(
        box=_RULED,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold" if styled() else "",
    )
    for header, kind in zip(headers, kinds, strict=True):
        grid.add_column(
            Text(header.upper()),
            justify="right" if kind == "number" else "left",
            no_wrap=kind in ("number", "hash", "label"),
            overflow="fold",
        )
    for row in shown:
        grid.add_row(*(Text(value) for value in row))
    return render(grid, width)


def key_values(pairs: Iterable[tuple[str, object]], *, width: int | None = None) -> str:
    """One `key: value` line per pair, keys aligned, long values wrapped under their start."""
    items = [(f"{key}:", cell(value)) for key, value in pairs]
    if not items:
        return ""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in items:
        grid.add_row(Text(key), Text(value))
    return render(grid, width)


def _kind(column: Sequence[str]) -> str:
    filled = [value for value in column if value]
    if not filled:
        return "text"
    if all(value.lstrip("-").isdigit() for value in filled):
        return "number"
    if all(_HASH.fullmatch(value) for value in filled):
        return "hash"
    return "label" if max(len(value) for value in filled) <= LABEL_WIDTH else "text"


def _shorten_hashes(cells: list[list[str]]) -> list[list[str]]:
    """Every hash in the table, alone in its cell or inside text (an address, an outcome),
    cut to the prefix length that tells apart all the table's hashes."""
    hashes = [found for row in cells for value in row for found in _EMBEDDED_HASH.findall(value)]
    if not hashes:
        return cells
    length = abbreviations(hashes)
    return [
        [_EMBEDDED_HASH.sub(lambda match: match[0][:length], value) for value in row]
        for row in cells
    ]
