"""Prometheus metrics of one node: flows, P2P messages, vault states, process CPU and memory.

Each node gets its own registry so several nodes in one process (a MockNetwork) stay apart;
the node process serves its registry over HTTP for Prometheus to scrape.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_FLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class NodeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, *, process: bool = False) -> None:
        self.registry = registry or CollectorRegistry()
        if process:
            ProcessCollector(registry=self.registry)
        self.flows_started = Counter(
            "dlt_flows_started", "Flows started", ["flow"], registry=self.registry
        )
        self.flows_finished = Counter(
            "dlt_flows_finished", "Flows completed successfully", ["flow"], registry=self.registry
        )
        self.flows_failed = Counter(
            "dlt_flows_failed", "Flows that failed or were killed", ["flow"], registry=self.registry
        )
        self.flows_in_flight = Gauge(
            "dlt_flows_in_flight", "Flows running now", registry=self.registry
        )
        self.flows_hospitalised = Gauge(
            "dlt_flows_hospitalised", "Flows parked for an operator", registry=self.registry
        )
        self.flow_duration = Histogram(
            "dlt_flow_duration_seconds",
            "Wall time from start to finish of each flow",
            ["flow"],
            buckets=_FLOW_BUCKETS,
            registry=self.registry,
        )
        self.messages_sent = Counter(
            "dlt_p2p_messages_sent",
            "Session messages handed to the transport",
            registry=self.registry,
        )
        self.messages_received = Counter(
            "dlt_p2p_messages_received", "Session messages delivered", registry=self.registry
        )
        self.messages_dropped = Counter(
            "dlt_p2p_messages_dropped",
            "Session messages dropped unread: undecodable, or not from the session's counterparty",
            ["reason"],
            registry=self.registry,
        )
        self.send_latency = Histogram(
            "dlt_p2p_send_seconds",
            "Time to hand one message to the transport (broker confirm included)",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.receive_latency = Histogram(
            "dlt_p2p_receive_latency_seconds",
            "Time from a peer sending a message to its delivery here",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.notarisation_seconds = Histogram(
            "dlt_notarisation_seconds",
            "Client side: from asking a notary to holding a quorum of its signatures",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.notarisation_retries = Counter(
            "dlt_notarisation_retries",
            "Client side: extra waves of requests to a notary's replicas after a timeout",
            registry=self.registry,
        )
        self.notarisations_in_doubt = Counter(
            "dlt_notarisations_in_doubt",
            "Client side: spends asked for again because the notary reached no decision in time",
            registry=self.registry,
        )
        self.notary_requests = Counter(
            "dlt_notary_requests", "Replica: notarisation requests received", registry=self.registry
        )
        self.notary_commits = Counter(
            "dlt_notary_commits",
            "Replica: transactions committed and signed",
            registry=self.registry,
        )
        self.notary_conflicts = Counter(
            "dlt_notary_conflicts",
            "Replica: requests refused as double spends",
            registry=self.registry,
        )
        self.notary_batch_size = Histogram(
            "dlt_notary_batch_size",
            "Replica: requests committed in one database transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.notary_commit_seconds = Histogram(
            "dlt_notary_commit_seconds",
            "Replica: uniqueness commit latency of one request",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.vault_states = Gauge(
            "dlt_vault_states", "States in the vault", ["status"], registry=self.registry
        )

    def serve(self, address: str, port: int) -> None:
        """Expose the metrics over HTTP (the node process calls this once)."""
        start_http_server(port, addr=address, registry=self.registry)
