"""Short ids: a unique prefix of a flow or transaction id stands for the id, as in git.

Tables show ids shortened (dlt.cli.table); these let the same short form be typed back, e.g.
`dlt flow status 76cd883c` or `dlt tx show 3827e124`. The node is asked for its ids and the
prefix must match exactly one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dlt.cli.endpoints import all_transactions
from dlt.cli.main import CommandError
from dlt.rpc.client import RpcClient

MIN_PREFIX = 4
"""Git's shortest accepted abbreviation."""
FLOW_ID_LENGTH = 32
TX_ID_LENGTH = 64

_HEX = re.compile(r"[0-9a-f]+")


def resolve(prefix: str, candidates: Iterable[str], what: str) -> str:
    """The one candidate that starts with `prefix` (case-insensitive)."""
    text = prefix.strip().lower()
    if len(text) < MIN_PREFIX or not _HEX.fullmatch(text):
        raise CommandError(
            f"{what} {prefix!r} is neither an id nor a prefix of at least {MIN_PREFIX} hex digits"
        )
    matches = sorted({candidate for candidate in candidates if candidate.startswith(text)})
    if not matches:
        raise CommandError(f"no {what} starts with {text}")
    if len(matches) > 1:
        shown = ", ".join(match[: len(text) + 4] for match in matches[:5])
        raise CommandError(f"{what} prefix {text} is ambiguous ({shown}); give more digits")
    return matches[0]


async def flow_id(client: RpcClient, given: str) -> str:
    """`given` if it is a whole flow id, else the node's one flow id it is a prefix of."""
    if len(given) >= FLOW_ID_LENGTH:
        return given
    return resolve(given, (info.flow_id for info in await client.list_flows()), "flow")


async def transaction_id(client: RpcClient, given: str) -> str:
    """`given` if it is a whole transaction id, else the one recorded id it is a prefix of."""
    if len(given) >= TX_ID_LENGTH:
        return given
    ids = [tx.id for tx in await all_transactions(client)]
    return resolve(given, ids, "transaction")
