"""The router's /metrics page, read from the running router while a conversation goes through
the whole pipeline: what an operator's Prometheus scrapes (the chart's ServiceMonitor)."""

from __future__ import annotations

import urllib.request

import pytest
from confluent_kafka import Producer
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(p: Pipeline) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{p.ports['router']}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def by_label(samples: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    out = {}
    for (sample, pairs), value in samples.items():
        if sample == name:
            found = dict(pairs)
            out[tuple(found[label] for label in labels)] = value
    return out


def test_router_metrics_count_records_decisions_commands_and_conversations(
    pipeline: Pipeline, kafka_bootstrap: str, kafka_topics
) -> None:
    p = pipeline
    before = scrape(p)
    assert before[("threadline_router_links_rows", ())] == 0
    assert by_label(before, "threadline_router_inbound_records_total", "kind", "decision") == {}

    root = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The VPN drops every ten minutes")["ts"]
    wait_until(
        "the ticket link in the thread",
        lambda: [m for m in p.slack.thread("C0SUPPORT", root) if m.get("bot_id") and m["ts"] != root],
    )
    # A record that is no Slack event at all: dead-lettered, counted, and the router goes on.
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(kafka_topics.slack_events, key=b"x", value=b"{not json")
    assert producer.flush(10) == 0
    p.settle()  # everything the question caused is counted: a count above one would be a double

    def settled() -> Samples | None:
        samples = scrape(p)
        records = by_label(samples, "threadline_router_inbound_records_total", "kind", "decision")
        return samples if sum(records.values()) >= 5 else None

    after = wait_until("five records counted", settled)
    records = by_label(after, "threadline_router_inbound_records_total", "kind", "decision")
    # What the conversation told Alice's Home and #support's queue (rules.home) is counted under
    # home_* kinds; how many of those publish depends on the debounce, so they are looked at apart.
    homes = {k: v for k, v in records.items() if k[0].startswith("home_")}
    assert homes[("home_homeupdate", "commands")] >= 1 and ("home_queueupdate", "recorded") in homes
    assert {k: v for k, v in records.items() if k not in homes} == {
        # Alice's question: a ticket to open.
        ("slack_message", "commands"): 1,
        # Zendesk's webhook about the new ticket and zendesk-sync's result: the row learns the ticket.
        ("zendesk_created", "recorded"): 1,
        ("result_ticket_created", "recorded"): 1,
        # The ticket link zendesk-sync posted comes back from Slack: the router's own post, nothing to do.
        ("slack_message", "no_effect"): 1,
        ("slack", "dead_lettered"): 1,
    }
    commands = by_label(after, "threadline_router_commands_total", "type")
    assert {k: v for k, v in commands.items() if k != ("slack.publish_home",)} == {("zendesk.create_ticket",): 1}
    assert after[("threadline_router_links_rows", ())] == 1
