"""Prometheus and Grafana files for a local network, so its nodes can be watched as they run.

Every node serves its metrics (dlt/node/metrics.py) on 127.0.0.1:<metrics_port>. This module
writes, under <home>/monitoring/, a Prometheus config that scrapes each of them, a copy of the
Grafana dashboard that charts the figures the reference paper reports, and a README saying how
to run both. Neither program is installed here nor needed by the project: the files only make
it one command to look at a network when they are available.

The YAML is written by hand, with every string quoted as JSON (a subset of YAML), so the project
takes on no YAML dependency for one small, fixed-shape file.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

DASHBOARD = Path(__file__).parent / "grafana" / "dlt-dashboard.json"
JOB_NAME = "dlt-nodes"
MONITORING_DIR = "monitoring"

# Prometheus's own duration syntax (5s, 500ms, 1m30s), checked so a bad argument fails here
# rather than producing a config that Prometheus refuses or a YAML line that means another thing.
_DURATION = re.compile(r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?")


class ScrapeTarget(Protocol):
    """What the config needs to know of a node. `deploy.localnet.Member` is one; a protocol
    rather than that class because localnet imports this module."""

    @property
    def slug(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def metrics_port(self) -> int: ...


def _quoted(value: str) -> str:
    """A double-quoted YAML scalar: JSON string syntax is valid YAML and escapes everything."""
    return json.dumps(value)


def prometheus_config(members: Iterable[ScrapeTarget], scrape_interval: str = "5s") -> str:
    """A Prometheus config scraping every node, labelled with its slug and role.

    One static_config per node, because labels apply to a whole static_config and each node
    needs its own. The 5 s default keeps one-minute rates (as the dashboard uses) well sampled.
    """
    if not scrape_interval or not _DURATION.fullmatch(scrape_interval):
        raise ValueError(f"not a Prometheus duration: {scrape_interval!r} (e.g. 5s, 500ms, 1m)")
    lines = [
        "# Scrapes the metrics of every node of a dlt local network (see README.txt).",
        "global:",
        f"  scrape_interval: {scrape_interval}",
        f"  evaluation_interval: {scrape_interval}",
        "scrape_configs:",
        f"  - job_name: {_quoted(JOB_NAME)}",
        "    static_configs:",
    ]
    for member in members:
        lines += [
            f"      - targets: [{_quoted(f'127.0.0.1:{member.metrics_port}')}]",
            "        labels:",
            f"          node: {_quoted(member.slug)}",
            f"          role: {_quoted(member.role)}",
        ]
    return "\n".join(lines) + "\n"


def _readme(monitoring: Path, members: list[ScrapeTarget]) -> str:
    """How to look at the network: the commands carry this network's absolute paths."""
    targets = "\n".join(
        f"  {member.slug:<28} {member.role:<16} http://127.0.0.1:{member.metrics_port}/metrics"
        for member in members
    )
    return f"""\
Monitoring this local network
=============================

Each node serves Prometheus metrics on 127.0.0.1 (so run Prometheus on this machine):

{targets}

Prometheus and Grafana are not part of the project; install them to use these files.
Without them, `curl http://127.0.0.1:PORT/metrics` shows a node's current values.

1. Prometheus (scrapes every node every few seconds, serves on http://localhost:9090):

     prometheus --config.file={monitoring / "prometheus.yml"} \\
                --storage.tsdb.path={monitoring / "prometheus-data"}

2. Grafana (http://localhost:3000, first login admin / admin):
   - Connections > Data sources > Add > Prometheus, URL http://localhost:9090, Save & test.
   - Dashboards > New > Import, upload {monitoring / "grafana" / "dlt-dashboard.json"}.
   The "Data source" selector at the top of the dashboard picks the Prometheus to read
   (the default one at first); "Node" limits every panel to the chosen nodes.

The dashboard shows, per node: flows started and finished (per 15 minutes and per second),
flows in flight, parked and failed, flow duration percentiles, CPU, resident memory, P2P send
and receive latency (mean, p95, p99), messages sent and received per second, and vault states.
"""


def write_monitoring_files(home: Path, members: Iterable[ScrapeTarget]) -> Path:
    """Write <home>/monitoring/ (Prometheus config, dashboard, README); returns that directory.

    Overwrites what is there, so running it again after the network changes brings the files
    up to date.
    """
    nodes = list(members)
    monitoring = home / MONITORING_DIR
    (monitoring / "grafana").mkdir(parents=True, exist_ok=True)
    (monitoring / "prometheus.yml").write_text(prometheus_config(nodes))
    shutil.copyfile(DASHBOARD, monitoring / "grafana" / DASHBOARD.name)
    (monitoring / "README.txt").write_text(_readme(monitoring.resolve(), nodes))
    return monitoring
