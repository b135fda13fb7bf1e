"""Template filters: how hashes, parties, times and JSON data read on a page."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment

from dlt.rpc.render import brief
from explorer.market import party_label

SHORT = 12


def short(value: Any) -> str:
    """A long hash or id cut to its first characters; the page links to the whole."""
    text = "" if value is None else str(value)
    return f"{text[:SHORT]}…" if len(text) > SHORT + 4 else text


def moment(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def tx_of(ref: str) -> str:
    """The transaction id of a state ref "txhash:index"."""
    return str(ref).rpartition(":")[0]


def install(environment: Environment) -> None:
    environment.filters.update(
        short=short, moment=moment, pretty=pretty, brief=brief, party=party_label, tx_of=tx_of
    )
