"""Readings of the nodes' own Prometheus counters, before and after a window.

The replicas count requests, commits and the size of every batch they commit in one
database transaction (`dlt_notary_batch_size`); every node times each message it sends (to
the broker's confirm) and each it receives (from the peer's send), and a party each
notarisation. The difference of two scrapes is what the nodes did during the measured
window, as they saw it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

Scrape = dict[str, float]
"""Sample name (with its labels, as Prometheus writes them) to value."""

COMMITS = "dlt_notary_commits_total"
REQUESTS = "dlt_notary_requests_total"
CONFLICTS = "dlt_notary_conflicts_total"
BATCHES = "dlt_notary_batch_size_count"
BATCHED = "dlt_notary_batch_size_sum"
SENT = "dlt_p2p_send_seconds"
DELIVERED = "dlt_p2p_receive_latency_seconds"
NOTARISED = "dlt_notarisation_seconds"


def scrape(port: int, timeout: float = 5.0) -> Scrape:
    """Every sample the node at 127.0.0.1:`port` exposes; empty when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    samples: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def notary_activity(
    before: Mapping[str, Scrape], after: Mapping[str, Scrape], seconds: float
) -> dict[str, object]:
    """Per replica and in total: commits per second, requests, conflicts, mean batch size."""
    replicas: dict[str, dict[str, float]] = {}
    for name, end in after.items():
        start = before.get(name, {})

        def delta(key: str, start: Scrape = start, end: Scrape = end) -> float:
            return end.get(key, 0.0) - start.get(key, 0.0)

        batches, batched = delta(BATCHES), delta(BATCHED)
        replicas[name] = {
            "requests": delta(REQUESTS),
            "commits": delta(COMMITS),
            "conflicts": delta(CONFLICTS),
            "commits_per_s": delta(COMMITS) / seconds if seconds > 0 else 0.0,
            "batches": batches,
            "mean_batch_size": batched / batches if batches else 0.0,
        }
    total_batches = sum(r["batches"] for r in replicas.values())
    total_batched = sum(r["mean_batch_size"] * r["batches"] for r in replicas.values())
    return {
        "replicas": replicas,
        "commits_per_s_per_replica": (
            sum(r["commits_per_s"] for r in replicas.values()) / len(replicas) if replicas else 0.0
        ),
        "mean_batch_size": total_batched / total_batches if total_batches else 0.0,
        "max_batch_bucket": _largest_bucket(before, after),
    }


def _largest_bucket(before: Mapping[str, Scrape], after: Mapping[str, Scrape]) -> float | None:
    """The upper bound of the largest batch-size bucket any replica filled in the window."""
    largest: float | None = None
    for name, end in after.items():
        start = before.get(name, {})
        buckets = sorted(
            (float(key.split('le="')[1].rstrip('"}')), value - start.get(key, 0.0))
            for key, value in end.items()
            if key.startswith("dlt_notary_batch_size_bucket") and "+Inf" not in key
        )
        previous = 0.0
        for bound, cumulative in buckets:
            if cumulative > previous:
                largest = bound if largest is None else max(largest, bound)
            previous = cumulative
    return largest


def message_path(
    before: Mapping[str, Scrape], after: Mapping[str, Scrape], roles: Mapping[str, str], ok: int
) -> dict[str, dict[str, float]]:
    """Per role, over its nodes: messages sent and received per successful transaction, the
    mean wait for a send's broker confirm, the mean time from a peer's send to delivery, and
    the mean notarisation: where a transaction's latency goes between the nodes."""
    sums: dict[str, dict[str, float]] = {}
    for name, end in after.items():
        role = roles.get(name)
        if role is None or not end:
            continue
        start = before.get(name, {})
        totals = sums.setdefault(role, {})
        for metric in (SENT, DELIVERED, NOTARISED):
            for part in ("count", "sum"):
                key = f"{metric}_{part}"
                totals[key] = totals.get(key, 0.0) + end.get(key, 0.0) - start.get(key, 0.0)

    def mean_ms(totals: dict[str, float], metric: str) -> float:
        count = totals[f"{metric}_count"]
        return 1000 * totals[f"{metric}_sum"] / count if count else 0.0

    return {
        role: {
            "sent_per_tx": totals[f"{SENT}_count"] / ok if ok else 0.0,
            "confirm_ms": mean_ms(totals, SENT),
            "received_per_tx": totals[f"{DELIVERED}_count"] / ok if ok else 0.0,
            "delivery_ms": mean_ms(totals, DELIVERED),
            "notarisation_ms": mean_ms(totals, NOTARISED),
        }
        for role, totals in sorted(sums.items())
    }
