"""What the request path tallies (metrics.py) is what Prometheus would have been told one call at
a time: the same counts, buckets and sums, once flushed, and flushed by a scrape."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Histogram

from threadline_ingest.metrics import Metrics

pytestmark = pytest.mark.unit
LATENCIES = [0.0005, 0.002, 0.003, 0.0049, 0.005, 0.04, 0.7, 2.5, 12.0, 45.0, 0.002]


def samples(registry: CollectorRegistry, family: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        if metric.name == family
        for s in metric.samples
        if not s.name.endswith("_created")
    }


def test_tallied_latencies_export_as_observed_one_by_one():
    metrics = Metrics()
    for latency in LATENCIES:
        metrics.acknowledged("threadline.slack.events", "event_callback", latency)
    metrics.flush()
    reference = CollectorRegistry()
    histogram = Histogram(
        "threadline_ingest_produce_seconds",
        "reference",
        ["topic"],
        buckets=metrics.produce_latency._upper_bounds[:-1],
        registry=reference,
    )
    for latency in LATENCIES:
        histogram.labels("threadline.slack.events").observe(latency)
    got = samples(metrics.registry, "threadline_ingest_produce_seconds")
    assert got == pytest.approx(samples(reference, "threadline_ingest_produce_seconds"))
    published = samples(metrics.registry, "threadline_ingest_published")
    key = ("threadline_ingest_published_total", (("kind", "event_callback"), ("topic", "threadline.slack.events")))
    assert published[key] == len(LATENCIES)


async def test_answers_are_counted_once_nothing_is_in_flight_and_at_every_scrape():
    metrics = Metrics()
    key = ("threadline_ingest_requests_total", (("route", "/slack/events"), ("status", "200")))
    metrics.request_started()
    metrics.request_started()
    metrics.request_answered("/slack/events", 200)
    await asyncio.sleep(0)
    assert samples(metrics.registry, "threadline_ingest_requests").get(key, 0) == 0  # one still in flight
    assert b"threadline_ingest_in_flight_requests 1.0" in metrics.exposition()  # a scrape writes them first
    assert samples(metrics.registry, "threadline_ingest_requests")[key] == 1
    metrics.request_answered("/slack/events", 200)
    await asyncio.sleep(0)  # the loop's next turn: nothing in flight, so written
    assert samples(metrics.registry, "threadline_ingest_requests")[key] == 2
    assert samples(metrics.registry, "threadline_ingest_in_flight_requests") == {
        ("threadline_ingest_in_flight_requests", ()): 0
    }
