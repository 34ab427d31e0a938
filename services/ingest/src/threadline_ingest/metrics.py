"""Prometheus metrics of ingest (one registry per app, so tests can run several apps).

With several uvicorn workers (settings.workers) a scrape reaches one of them at random, so each
worker's numbers alone would be wrong: prometheus_client's multiprocess mode is on (the
entry point sets PROMETHEUS_MULTIPROC_DIR before the workers start), every worker writes its
values to files there, and /metrics sums them, one answer for the pod.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable


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
            "threadline_ingest_in_flight_requests",
            "HTTP requests being handled",
            registry=self.registry,
            multiprocess_mode="livesum",  # the pod's live workers together
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

    def process_ended(self) -> None:
        """In multiprocess mode, this worker's live gauges leave the pod's sum (a worker that
        crashes keeps its last in-flight count there until the pod restarts)."""
        if os.environ.get(MULTIPROCESS_DIR):
            multiprocess.mark_process_dead(os.getpid())

    def exposition(self) -> bytes:
        """The text a scrape gets: this app's registry, or every worker's files in multiprocess mode."""
        if os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
