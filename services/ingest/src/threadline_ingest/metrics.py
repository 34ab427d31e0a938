"""Prometheus metrics of ingest (one registry per app, so tests can run several apps).

With several uvicorn workers (settings.workers) a scrape reaches one of them at random, so each
worker's numbers alone would be wrong: prometheus_client's multiprocess mode is on (the
entry point sets PROMETHEUS_MULTIPROC_DIR before the workers start), every worker writes its
values to files there, and /metrics sums them, one answer for the pod.

What every request touches (its count, the in-flight gauge, the produce latency and the published
count) is tallied in plain Python numbers and written to prometheus_client's values in one go
(`flush`): in multiprocess mode each inc() or observe() takes a lock and writes an mmap'ed file,
6-12 us each on the bench's machine, ~40 us a request for the five, a sixth of what a bare FastAPI
endpoint spends on a whole request. A flush follows at once when no request is in flight (so a
scrape after a quiet moment counts every answer), else within FLUSH_SECONDS; a scrape flushes the
answering worker first.
"""

from __future__ import annotations

import asyncio
import bisect
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable
# Under load, the most a worker's tallies lag behind its answers in the pod's /metrics.
FLUSH_SECONDS = 0.1


class _Observed:
    """A histogram child's observations since the last flush: counts by bucket and their sum."""

    def __init__(self, child: Any) -> None:
        self.child = child
        # prometheus_client has no "observe n times": the child's bucket and sum values are
        # incremented directly (their names are its internals: tests/ingest/test_metrics.py checks
        # the exposition equals observe()'s). Without them, each observation is replayed.
        self.direct = all(hasattr(child, a) for a in ("_upper_bounds", "_buckets", "_sum"))
        self.bounds: list[float] = list(child._upper_bounds) if self.direct else []
        self.counts = [0] * len(self.bounds)
        self.total = 0.0
        self.replay: list[float] = []

    def add(self, value: float) -> None:
        if self.direct:
            self.counts[bisect.bisect_left(self.bounds, value)] += 1
            self.total += value
        else:
            self.replay.append(value)

    def flush(self) -> None:
        if self.direct:
            if self.total or any(self.counts):
                self.child._sum.inc(self.total)
                for i, n in enumerate(self.counts):
                    if n:
                        self.child._buckets[i].inc(n)
                        self.counts[i] = 0
                self.total = 0.0
        else:
            values, self.replay = self.replay, []
            for value in values:
                self.child.observe(value)


class Metrics:
    def __init__(self) -> None:
        self._pending: dict[Any, int] = {}  # counter child -> increments not yet written
        self._observed: dict[str, _Observed] = {}
        self._children: dict[tuple[str, ...], Any] = {}
        self._in_flight = 0
        self._in_flight_written = 0
        self._flush: asyncio.TimerHandle | asyncio.Handle | None = None
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

    # --- the request path's tallies ------------------------------------------------------------

    def request_started(self) -> None:
        self._in_flight += 1

    def request_answered(self, route: str, status: int) -> None:
        self._in_flight -= 1
        child = self._children.get(("requests", route, str(status)))
        if child is None:
            child = self._children["requests", route, str(status)] = self.requests.labels(route, str(status))
        self._pending[child] = self._pending.get(child, 0) + 1
        self._soon()

    def acknowledged(self, topic: str, kind: str, latency: float) -> None:
        """The broker acknowledged a record `latency` seconds after it was handed to the producer."""
        observed = self._observed.get(topic)
        if observed is None:
            observed = self._observed[topic] = _Observed(self.produce_latency.labels(topic))
        observed.add(latency)
        child = self._children.get(("published", topic, kind))
        if child is None:
            child = self._children["published", topic, kind] = self.published.labels(topic, kind)
        self._pending[child] = self._pending.get(child, 0) + 1
        self._soon()

    def _soon(self) -> None:
        """A flush at once when nothing is in flight, else within FLUSH_SECONDS (one at a time)."""
        idle = self._in_flight == 0
        if self._flush is not None:
            if not idle or not isinstance(self._flush, asyncio.TimerHandle):
                return
            self._flush.cancel()  # a quiet moment: no need to wait for the timer
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a test calling in directly): write now
            self.flush()
            return
        self._flush = loop.call_soon(self.flush) if idle else loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the tallies to prometheus_client's values (this worker's file in multiprocess mode)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        pending, self._pending = self._pending, {}
        for child, amount in pending.items():
            child.inc(amount)
        for observed in self._observed.values():
            observed.flush()
        if self._in_flight != self._in_flight_written:
            self.in_flight.set(self._in_flight)
            self._in_flight_written = self._in_flight

    def process_ended(self) -> None:
        """In multiprocess mode, this worker's live gauges leave the pod's sum (a worker that
        crashes keeps its last in-flight count there until the pod restarts)."""
        self.flush()
        if os.environ.get(MULTIPROCESS_DIR):
            multiprocess.mark_process_dead(os.getpid())

    def exposition(self) -> bytes:
        """The text a scrape gets: this app's registry, or every worker's files in multiprocess mode."""
        self.flush()
        if os.environ.get(MULTIPROCESS_DIR):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
