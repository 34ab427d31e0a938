"""The real worker (`python -m threadline_zendesk_sync`) on the real broker: commands in, results
out, a redelivered command performed once, and what cannot be done dead-lettered with a
`failed` result so that the thread is told."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import msgspec
import pytest
from confluent_kafka import Producer
from threadline_testing.kafka import read_topic

from threadline_common.dlq import dlq_reason
from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import group_lag
from threadline_devstack.waiting import wait_until

from .conftest import user

pytestmark = pytest.mark.integration


def records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes, dict]]:
    """(key, value, dead-letter headers) of every record on `topic`."""
    return [(m.key(), m.value(), dlq_reason(m.headers())) for m in read_topic(bootstrap, topic)]


def test_the_worker_performs_commands_once_and_reports_what_it_could_not_do(
    kafka_bootstrap, kafka_topics, slack, zendesk, router, zen, tmp_path: Path
):
    port = free_port()
    worker = services.zendesk_sync_for_sandboxes(
        services.ServiceEnv(kafka_bootstrap, kafka_topics.prefix, tmp_path, {"PYTHONWARNINGS": "ignore"}),
        port,
        slack,
        zendesk,
        partitions="2",
        slack_channel_interval_seconds="0.05",
        log_format="text",
    )
    root = user(slack, "alice").chat_postMessage(channel="C0SUPPORT", text="Projector shows nothing")["ts"]
    [create] = [msgspec.to_builtins(c) for c in router.message(slack, "C0SUPPORT", root)]  # as on the wire
    stray = {  # a reply in a thread whose ticket was never created
        "schema_version": 1,
        "type": "zendesk.add_comment",
        "command_id": "comment:C0SUPPORT:1.1",
        "conversation_id": "T0SANDBOX:C0SUPPORT:1.0",
        "issued_at": create["issued_at"],
        "cause": create["cause"],
        "external_id": "T0SANDBOX:C0SUPPORT:1.0",
        "ticket_id": None,
        "body": "hello?",
        "public": True,
        "author": {"slack_user_id": "U0BOB"},
        "slack_channel_id": "C0SUPPORT",
        "slack_ts": "1.1",
    }
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for record in (create, create, stray):  # the create twice: a redelivery
        producer.produce(kafka_topics.commands, key=record["conversation_id"], value=json.dumps(record).encode())
    producer.produce(kafka_topics.commands, key=b"T0SANDBOX:C0SUPPORT:9.9", value=b"{truncated")
    assert producer.flush(30) == 0

    worker.start()
    try:
        services.wait_http(f"http://127.0.0.1:{port}/readyz", worker)
        # The worker commits a command only once it is done and its result or dead letter is on
        # Kafka: with every command committed, the topics hold all it will ever write for them.
        wait_until(
            "the worker's commit past every command",
            lambda: group_lag(kafka_bootstrap, "threadline-zendesk-sync", [kafka_topics.commands]) == 0,
            timeout=90,
        )
        results = records(kafka_bootstrap, kafka_topics.results)
        letters = records(kafka_bootstrap, kafka_topics.dlq("threadline.commands"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
    finally:
        worker.stop(timeout=10)

    [ticket] = list(zen.tickets(external_id=create["external_id"]))
    created = [json.loads(v) for k, v, _ in results if k == create["conversation_id"].encode()]
    assert [(r["kind"], r["ticket_id"]) for r in created] == [("ticket_created", ticket.id)] * 2
    [failed] = [json.loads(v) for k, v, _ in results if k == b"T0SANDBOX:C0SUPPORT:1.0"]
    assert failed["kind"] == "failed" and failed["command_id"] == "comment:C0SUPPORT:1.1"
    assert "no ticket with external_id" in failed["reason"]
    assert len(results) == 3

    reasons = sorted(headers["reason"] for _, _, headers in letters)
    assert len(letters) == 2 and reasons[0].startswith("no ticket with external_id") and "not JSON" in reasons[1]
    assert {headers["service"] for _, _, headers in letters} == {"zendesk-sync"}
    assert b"{truncated" in {v for _, v, _ in letters}

    announcements = [m for m in slack.thread("C0SUPPORT", root) if m.get("bot_id")]
    assert len(announcements) == 1 and f"#{ticket.id}>" in announcements[0]["text"]
    assert 'threadline_zendesk_sync_commands_total{outcome="already_done",type="zendesk.create_ticket"} 1.0' in metrics
    assert 'threadline_zendesk_sync_commands_total{outcome="failed",type="zendesk.add_comment"} 1.0' in metrics
