"""Fault drill: bad rows in the router's links table and bad records in every input topic, with
reminders on, while conversations flow. Before, one links row that did not decode stopped the
reminder scan, and with it the router (and nothing restarted it): every channel went silent.
Now each bad row is counted and skipped, each bad record dead-lettered, and the stream goes on."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Producer

from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Ledger, Pipeline, wait_until
from .test_poison_records import dead_letters

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError
# Written straight onto the router's changelog (threadline.links) before it starts, so that its
# table is recovered with them. Each is a different way for a row to be wrong.
BAD_ROWS = {
    b"bad-row:garbage": b"\x00\xff\xfe not a row \x81",
    b"bad-row:truncated": b'{"schema_version": 2, "conversation_id": "T0SANDBOX:C0SUPPORT:1',
    b"bad-row:not-an-object": b"[1, 2, 3]",
    b"bad-row:deep": DEEP,
    b"bad-row:future-version": json.dumps({"schema_version": 99, "conversation_id": "x"}).encode(),
    b"bad-row:missing-fields": json.dumps({"schema_version": 2, "channel_id": "C0SUPPORT"}).encode(),
    # Every field the scan needs, of the wrong type: it passes json.loads and fails in the rules.
    b"bad-row:wrong-types": json.dumps(
        {
            "schema_version": 2,
            "conversation_id": "T0SANDBOX:C0SUPPORT:1700000000.000100",
            "team_id": "T0SANDBOX",
            "channel_id": "C0SUPPORT",
            "thread_ts": "1700000000.000100",
            "ticket_id": None,
            "ticket_url": None,
            "status": "new",
            "origin": "slack",
            "requester_slack_id": "U0ALICE",
            "created_at": "2026-11-23T10:00:00.000Z",
            "updated_at": "2026-11-23T10:00:00.000Z",
            "previous_ticket_ids": [],
            "waiting_since": 1700000000,
            "reminders_sent": "none",
        }
    ).encode(),
}
WRONG_SHAPE = {
    "threadline.slack.events": {"schema_version": 1, "kind": "event_callback", "event_id": "Ev1", "body": "text"},
    "threadline.zendesk.events": {"schema_version": 1, "kind": "event_webhook", "event_id": "z1", "body": [1]},
    "threadline.sync.results": {"schema_version": 1, "kind": "ticket_created", "conversation_id": None},
    "threadline.commands": {"schema_version": 1, "type": "create_ticket", "command_id": ["x"]},
}
INBOUND = "threadline.router.inbound"
BAD_KEY = b"\xff\xfe"


def bad_records(topic: str) -> list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]:
    """(key, value, headers) of the bad records sent to `topic` (kind in the key, as the poison drill)."""
    if topic == INBOUND:
        conversation = b"T0SANDBOX:C0SUPPORT:1700000000.000200"
        return [
            (BAD_KEY, b'{"kind": "event_callback"}', [("threadline-source", b"slack")]),  # no UTF-8 key
            (b"poison-unknown-source", b"{}", [("threadline-source", b"carrier-pigeon")]),
            (b"poison-no-source", b"{}", []),
            (b"poison-tombstone", None, [("threadline-source", b"slack")]),
            (b"poison-deep", DEEP, [("threadline-source", b"result")]),
            (conversation, b"\x00garbage", [("threadline-source", b"zendesk")]),
        ]
    return [
        (b"poison-tombstone", None, []),
        (b"poison-deep", DEEP, []),
        (b"poison-wrong-shape", json.dumps(WRONG_SHAPE[topic]).encode(), []),
    ]


def channels(zendesk: ZendeskSandbox) -> str:
    """Both channels remind (after ten hours: none is due during the drill, but every row is read
    by each scan, twice a second)."""
    return (
        "defaults: {zendesk: {tags: [slack]}, reminders: {after_minutes: 600, max_reminders: 2}}\n"
        f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"  C0INFRA: {{name: infra-help, zendesk: {{group_id: {zendesk.infra_group_id}}}}}\n"
    )


@pytest.fixture
def pipeline_channels():
    return channels


@pytest.fixture
def bad_rows_written(kafka_bootstrap, kafka_topics) -> dict[bytes, bytes]:
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for key, value in BAD_ROWS.items():
        producer.produce(kafka_topics.links, key=key, value=value)
    assert producer.flush(30) == 0
    return BAD_ROWS


@pytest.fixture
def pipeline_settings(bad_rows_written) -> dict[str, dict[str, str]]:
    # Asking for the bad rows here writes them before the pipeline starts the router.
    return {"router": {"reminder_interval_seconds": "0.5"}}


@pytest.mark.timeout(180)
def test_bad_rows_and_records_cost_only_themselves(pipeline: Pipeline, kafka_bootstrap, kafka_topics):
    p = pipeline
    prefix = kafka_topics.prefix
    ledger = Ledger(replies=1)
    ledger.converse(p, 0, "before the bad records")

    producer = Producer({"bootstrap.servers": kafka_bootstrap, "message.max.bytes": 2_000_000})
    expected: set[tuple[str, str]] = set()
    for topic in (*WRONG_SHAPE, INBOUND):
        for key, value, headers in bad_records(topic):
            producer.produce(prefix + topic, key=key, value=value, headers=headers)
            expected.add((prefix + topic, key.decode(errors="replace").removeprefix("poison-")))
    assert producer.flush(30) == 0

    ledger.converse(p, 1, "among the bad records")
    ledger.converse(p, 2, "after the bad records")

    # Reminders read a due-time index, not the table: a tick never reads a bad row again. Each is
    # met once, when the table is recovered (or restored) and the index made, before the router
    # is ready.
    # Up to 90 s: the router's /readyz does not wait for its group join, and a join can wait out a
    # member that was killed before (Kafka's session timeout), on a loaded machine a minute.
    wait_until("every conversation's ticket, comments and confirmation", lambda: ledger.complete(p), timeout=90)
    # Every record consumed and committed, and a service commits a bad one only once its dead
    # letter is on Kafka: every dead letter (and any doubled effect) is there now.
    p.settle()
    dlqs = sorted({f"{prefix}{t}.dlq" for t in (*WRONG_SHAPE, INBOUND)})
    found = dead_letters(kafka_bootstrap, dlqs)

    assert sorted(expected - set(found)) == [], "not dead-lettered"
    for (topic, _kind), letter in found.items():
        assert letter["dlq"] == f"{topic}.dlq" and letter["headers"]["reason"]
    for name in ("router", "zendesk-sync"):
        assert p.processes[name].alive(), f"{name} died:\n{p.processes[name].log_tail()}"
    counts = ledger.counts(p)
    assert (counts["lost"], counts["duplicated"], counts["tickets"]) == (0, 0, 3), counts
    # Each bad row the index could not read is logged once, with its key: the log says which, not
    # how often. The row with a channel and nothing else reads as a conversation that waits for
    # nothing: no reminder, nothing to say until an event for its key meets it.
    log = p.processes["router"].log_path.read_text(errors="replace")
    unreadable = [key for key in BAD_ROWS if key != b"bad-row:missing-fields"]
    assert {key: log.count(repr(key)) for key in BAD_ROWS} == {
        **dict.fromkeys(BAD_ROWS, 0),
        **dict.fromkeys(unreadable, 1),
    }
    print(
        f"\ndrill: {len(BAD_ROWS)} bad links rows ({len(unreadable)} unreadable, each logged once), "
        f"{len(expected)} bad records into {len(dlqs)} topics, all dead-lettered; "
        f"3 conversations: lost 0, duplicated 0; router and zendesk-sync running"
    )
