"""Prometheus metrics of ingest (one registry per app, so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "threadline_ingest_requests",
            "HTTP requests answered, by route template and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "threadline_ingest_in_flight_requests", "HTTP requests being handled", registry=self.registry
        )
        self.signature_failures = Counter(
            "threadline_ingest_signature_failures",
            "Requests refused for missing, stale or wrong credentials, by source (slack, zendesk)",
            ["source"],
            registry=self.registry,
        )
        self.produce_latency = Histogram(
            "threadline_ingest_produce_seconds",
            "Time from handing a record to the producer to the broker's acknowledgement",
            ["topic"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.published = Counter(
            "threadline_ingest_published",
            "Records the broker acknowledged, by topic and kind",
            ["topic", "kind"],
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "threadline_ingest_publish_failures",
            "Records Kafka did not acknowledge in time (answered 503 / not acked on Socket Mode)",
            ["topic"],
            registry=self.registry,
        )
        self.dropped = Counter(
            "threadline_ingest_dropped",
            "Requests accepted but not published, by reason (channel, workspace, app, type)",
            ["reason"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "threadline_ingest_duplicates_skipped",
            "Redeliveries of an event already published (or being published), answered without republishing",
            registry=self.registry,
        )
