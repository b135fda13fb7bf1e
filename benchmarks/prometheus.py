"""Readings of the notary replicas' own Prometheus counters, before and after a window.

The replicas count requests, commits and the size of every batch they commit in one
database transaction (`dlt_notary_batch_size`); the difference of two scrapes is what the
replicas did during the measured window, as they saw it.
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
