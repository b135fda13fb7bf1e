"""What a node has learnt about notary replicas: which answer, and how fast.

The notary client asks first the replicas it expects to answer, waits for them about as long
as they usually take, and draws new states' notaries among services that answer, so f crashed
or slow replicas, or a dead notary service, cost honest users little once noticed. What is
learnt only orders and times requests; safety never rests on it (a quorum of valid signatures
is still needed), so a replica that games it gains nothing but work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from dlt.crypto import PublicKey
from dlt.identity import Party
from dlt.ledger.network_parameters import NotaryInfo

LATENCY_WEIGHT = 0.2
"""Weight of the newest observation in a replica's moving average latency."""

SLOW_FACTOR = 4.0
"""A replica this many times slower than its cluster's median is asked after the others."""

MAX_PROBE_AFTER = 300.0
"""The longest a suspected replica waits between probes, however often it missed."""


@dataclass
class _Record:
    latency: float | None = None
    misses: int = 0
    last_miss: float = 0.0
    last_probe: float = 0.0


class NotaryHealth:
    """Per node, in memory: each replica's moving average latency and its recent misses
    (requests it did not answer in time, or answered with something invalid)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[PublicKey, _Record] = {}

    def _record(self, replica: Party) -> _Record:
        return self._records.setdefault(replica.owning_key, _Record())

    def answered(self, replica: Party, seconds: float) -> None:
        record = self._record(replica)
        record.misses = 0
        if record.latency is None:
            record.latency = seconds
        else:
            record.latency += LATENCY_WEIGHT * (seconds - record.latency)

    def missed(self, replica: Party) -> None:
        record = self._record(replica)
        record.misses += 1
        record.last_miss = self._clock()

    def probed(self, replica: Party) -> None:
        self._record(replica).last_probe = self._clock()

    def latency(self, replica: Party) -> float | None:
        return self._record(replica).latency

    def suspected(self, replica: Party) -> bool:
        return self._record(replica).misses > 0

    def probe_due(self, replica: Party, after: float) -> bool:
        """A suspected replica whose quiet period (`after` seconds, doubling with each miss)
        is over: worth asking again."""
        record = self._record(replica)
        if record.misses == 0:
            return False
        wait = min(after * 2 ** (record.misses - 1), MAX_PROBE_AFTER)
        return self._clock() - max(record.last_miss, record.last_probe) >= wait

    def answering(self, info: NotaryInfo, probe_after: float) -> bool:
        """Whether enough of a service's replicas answer to notarise, or one is due a probe
        (otherwise a service that recovered would never be drawn again)."""
        replicas = info.replica_parties
        healthy = sum(1 for replica in replicas if not self.suspected(replica))
        return healthy >= info.quorum or any(self.probe_due(r, probe_after) for r in replicas)

    def ranked(self, replicas: Sequence[Party], shuffled: Iterable[Party]) -> list[Party]:
        """`replicas` in the order to ask them: healthy ones as `shuffled` has them, the
        slow after the fast, the suspected last."""
        known = [lat for r in replicas if (lat := self.latency(r)) is not None]
        median = statistics.median(known) if known else None

        def slow(replica: Party) -> bool:
            latency = self.latency(replica)
            return median is not None and latency is not None and latency > SLOW_FACTOR * median

        order = list(shuffled)
        return sorted(order, key=lambda r: (self.suspected(r), slow(r)))

    def wave_timeout(
        self, asked: Iterable[Party], ceiling: float, floor: float, unknown: float | None = None
    ) -> float:
        """How long to wait for `asked` before asking more: a few times what the slowest of
        them usually takes, between `floor` and `ceiling` (`unknown`, by default the
        ceiling, while any of them has no known latency)."""
        latencies = [self.latency(replica) for replica in asked]
        if not latencies or any(latency is None for latency in latencies):
            return ceiling if unknown is None else unknown
        slowest = max(latency for latency in latencies if latency is not None)
        return min(ceiling, max(floor, SLOW_FACTOR * slowest))
