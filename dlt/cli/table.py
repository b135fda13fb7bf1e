"""Plain-text tables for the `dlt` command's default output.

Small on purpose: aligned columns, a header underline, numbers right-aligned, overlong cells
cut with an ellipsis so a row stays on one line. Anything a script needs in full is in
`--json`, so a table is free to abbreviate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dlt.rpc.render import brief

MAX_CELL = 80
UNLIMITED = 10_000
"""The last column is never cut: it can run on without pushing any other column out of line."""
ELLIPSIS = "…"
GAP = "  "


def cell(value: object, width: int = MAX_CELL) -> str:
    """`value` as one line of at most `width` characters."""
    text = value if isinstance(value, str) else brief(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, empty: str = "") -> str:
    """Rows under upper-case headers; `empty` is shown instead when there are no rows.

    Cells are cut at MAX_CELL characters, except in the last column.
    """
    cells = [
        [
            cell(value, width=MAX_CELL if i < len(headers) - 1 else UNLIMITED)
            for i, value in enumerate(row)
        ]
        for row in rows
    ]
    if not cells:
        return empty
    numeric = [
        all(_is_number(row[i]) for row in cells if row[i]) and any(row[i] for row in cells)
        for i in range(len(headers))
    ]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    lines = [
        _line([h.upper() for h in headers], widths, [False] * len(headers)),
        _line(["-" * w for w in widths], widths, [False] * len(headers)),
    ]
    lines += [_line(row, widths, numeric) for row in cells]
    return "\n".join(lines)


def key_values(pairs: Iterable[tuple[str, object]]) -> str:
    """One `key: value` line per pair, keys aligned; for a single record."""
    items = [(key, cell(value, width=2 * MAX_CELL)) for key, value in pairs]
    if not items:
        return ""
    width = max(len(key) for key, _ in items)
    return "\n".join(f"{key + ':':<{width + 1}} {value}".rstrip() for key, value in items)


def _is_number(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _line(values: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    parts = [
        value.rjust(width) if align else value.ljust(width)
        for value, width, align in zip(values, widths, right, strict=True)
    ]
    return GAP.join(parts).rstrip()
