"""The Grafana dashboard charts what a node really exports, per node, with sensible units.

A typo in a metric name would not fail anywhere else: Grafana just draws an empty panel. So every
PromQL expression is checked against the names a real node registry puts on the wire.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from deploy.monitoring import DASHBOARD
from dlt.node.metrics import NodeMetrics

DATASOURCE_UID = "${DS_PROMETHEUS}"

# Panel title -> unit: the panels the reference paper's figures need.
EXPECTED_PANELS = {
    "Flows started and finished per 15 min": "short",
    "Flows started and finished per second": "ops",
    "Flows in flight and parked": "short",
    "Failed flows per 15 min": "short",
    "Flow duration p50 / p95 / p99 by flow": "s",
    "CPU usage": "percentunit",
    "Resident memory": "bytes",
    "P2P send latency (mean, p95, p99)": "s",
    "P2P receive latency (mean, p95, p99)": "s",
    "P2P messages sent and received per second": "ops",
    "Vault states (unconsumed / consumed)": "short",
}

# PromQL words that look like metric names but are not.
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])[A-Za-z_:][\w:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are not functions, keywords,
    label names (in matchers or grouping clauses), durations or Grafana variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        is_call = text[match.end() :].lstrip().startswith("(")
        if not is_call and match.group() not in _KEYWORDS:
            names.add(match.group())
    return names


@pytest.fixture(scope="module")
def dashboard():
    return json.loads(Path(DASHBOARD).read_text())


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    """Every sample name a node's registry exposes once each metric has a value."""
    metrics = NodeMetrics(process=True)
    metrics.flows_started.labels("x").inc()
    metrics.flows_finished.labels("x").inc()
    metrics.flows_failed.labels("x").inc()
    metrics.flows_in_flight.set(1)
    metrics.flows_hospitalised.set(1)
    metrics.flow_duration.labels("x").observe(0.1)
    metrics.messages_sent.inc()
    metrics.messages_received.inc()
    metrics.send_latency.observe(0.001)
    metrics.receive_latency.observe(0.001)
    metrics.vault_states.labels("unconsumed").set(1)
    text = generate_latest(metrics.registry).decode()
    return {
        re.match(r"[A-Za-z_:][\w:]*", line).group()
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def graph_panels(dashboard) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def all_targets(dashboard) -> list[tuple[str, dict]]:
    return [
        (panel["title"], target) for panel in graph_panels(dashboard) for target in panel["targets"]
    ]


def test_metric_names_ignores_functions_labels_durations_and_variables():
    expr = (
        'histogram_quantile(0.95, sum by (instance, le) (rate(a_bucket{instance=~"$node", '
        's="x{y}"}[$__rate_interval]))) / on (instance) b_total offset 5m + 1e3 and c'
    )

    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_the_exposed_names_include_the_suffixed_samples(exposed):
    assert {
        "dlt_flows_started_total",
        "dlt_flow_duration_seconds_bucket",
        "dlt_p2p_send_seconds_sum",
        "dlt_p2p_receive_latency_seconds_count",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    } <= exposed


def test_the_dashboard_is_a_grafana_dashboard(dashboard):
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_it_has_every_panel_with_its_unit(dashboard):
    units = {
        panel["title"]: panel["fieldConfig"]["defaults"]["unit"]
        for panel in graph_panels(dashboard)
    }

    assert units == EXPECTED_PANELS


def test_panels_do_not_overlap(dashboard):
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {(box["x"] + dx, box["y"] + dy) for dx in range(box["w"]) for dy in range(box["h"])}
        assert not cells & taken, panel["title"]
        taken |= cells


def test_every_query_names_only_metrics_a_node_exposes(dashboard, exposed):
    for title, target in all_targets(dashboard):
        names = metric_names(target["expr"])
        assert names, f"{title}: {target['expr']} selects no metric"
        assert names <= exposed, f"{title}: {sorted(names - exposed)} not exported by a node"


def test_every_query_is_per_node_and_follows_the_node_selector(dashboard):
    for title, target in all_targets(dashboard):
        assert 'instance=~"$node"' in target["expr"], title
        assert "{{instance}}" in target["legendFormat"], title


def test_every_panel_and_query_reads_the_chosen_data_source(dashboard):
    for panel in graph_panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID


def test_quantiles_keep_the_bucket_bounds(dashboard):
    """histogram_quantile needs `le` kept through the sum, else it returns nothing."""
    quantiles = [t["expr"] for _, t in all_targets(dashboard) if "histogram_quantile" in t["expr"]]

    assert len(quantiles) == 7
    for expr in quantiles:
        assert re.search(r"sum by \([^)]*\ble\b[^)]*\)", expr), expr
        assert all(name.endswith("_bucket") for name in metric_names(expr)), expr


def test_latency_panels_show_the_mean_and_the_tail(dashboard):
    for title in ("P2P send latency (mean, p95, p99)", "P2P receive latency (mean, p95, p99)"):
        panel = next(p for p in graph_panels(dashboard) if p["title"] == title)
        exprs = [target["expr"] for target in panel["targets"]]
        names = set().union(*(metric_names(expr) for expr in exprs))
        assert any(name.endswith("_sum") for name in names), title
        assert any(name.endswith("_count") for name in names), title
        assert sum("histogram_quantile(0.95" in e for e in exprs) == 1, title
        assert sum("histogram_quantile(0.99" in e for e in exprs) == 1, title


def test_flows_are_counted_per_15_minutes_like_the_paper(dashboard):
    panel = next(
        p for p in graph_panels(dashboard) if p["title"] == "Flows started and finished per 15 min"
    )
    exprs = [target["expr"] for target in panel["targets"]]

    assert all("increase(" in expr and "[15m]" in expr for expr in exprs)
    assert set().union(*(metric_names(expr) for expr in exprs)) == {
        "dlt_flows_started_total",
        "dlt_flows_finished_total",
    }


def test_the_variables_choose_a_prometheus_and_any_nodes(dashboard, exposed):
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}

    source = variables["DS_PROMETHEUS"]
    assert source["type"] == "datasource"
    assert source["query"] == "prometheus"
    node = variables["node"]
    assert node["type"] == "query"
    assert node["query"] == "label_values(dlt_flows_in_flight, instance)"
    assert node["multi"] is True
    assert node["includeAll"] is True
    assert node["datasource"]["uid"] == DATASOURCE_UID
    assert "dlt_flows_in_flight" in exposed
