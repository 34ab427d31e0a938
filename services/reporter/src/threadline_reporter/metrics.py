"""Prometheus metrics of the reporter (one registry per process, served on /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.records = Counter(
            "threadline_reporter_records",
            "Activity records by outcome (indexed, dead_lettered)",
            ["outcome"],
            registry=self.registry,
        )
        self.flushes = Counter(
            "threadline_reporter_flushes", "Bulk flushes by outcome (ok, retry)", ["outcome"], registry=self.registry
        )
        self.conversations = Counter(
            "threadline_reporter_conversations_indexed", "Conversation documents written", registry=self.registry
        )
        self.batch_size = Gauge(
            "threadline_reporter_pending_records", "Records waiting for the next flush", registry=self.registry
        )
        self.reports = Counter(
            "threadline_reporter_reports",
            "Reports by kind and outcome (posted, already_posted, in_progress, disabled, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
