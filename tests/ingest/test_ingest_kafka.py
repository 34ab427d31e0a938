"""Ingest against the real broker: what gets a 200 is on its topic exactly once; what is
forged, stale, tampered or malformed is refused and is not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from confluent_kafka import Consumer
from slack_sdk.signature import SignatureVerifier

from threadline_common.kafka import admin_config, producer_config
from threadline_common.schemas import validate
from threadline_common.settings import KafkaSettings
from threadline_devstack.infra import free_port
from threadline_ingest.app import create_app
from threadline_ingest.publisher import Publisher
from threadline_ingest.settings import IngestSettings

pytestmark = pytest.mark.integration

SLACK_SECRET = "slack-signing-secret-for-tests"
ZENDESK_SECRET = "zendesk-webhook-secret-for-tests"
LEGACY_TOKEN = "legacy-shared-token-for-tests"


def settings(**overrides) -> IngestSettings:
    return IngestSettings(
        slack_signing_secret=SLACK_SECRET,
        zendesk_webhook_secret=ZENDESK_SECRET,
        zendesk_legacy_token=LEGACY_TOKEN,
        **overrides,
    )


def slack_headers(body: bytes, age: int = 0, secret: str = SLACK_SECRET, **extra) -> dict[str, str]:
    ts = str(int(time.time()) - age)
    return {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
        **extra,
    }


def zendesk_headers(body: bytes, secret: str = ZENDESK_SECRET) -> dict[str, str]:
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sig = base64.b64encode(hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sig,
        "x-zendesk-webhook-signature-timestamp": ts,
        "x-zendesk-webhook-id": "01HWEBHOOK",
    }


@pytest.fixture
def ingest(kafka_bootstrap, kafka_topics) -> Iterator[tuple[httpx.AsyncClient, KafkaSettings]]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    publisher = Publisher(producer_config(kafka), admin_config(kafka))
    app = create_app(settings(), kafka, publisher)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest")
    yield client, kafka
    publisher.close()


def read_topic(bootstrap: str, topic: str, expect: int, group: str, idle: float = 3.0) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    records, deadline, last = [], time.monotonic() + 60, time.monotonic()
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                records.append(msg)
                last = time.monotonic()
            elif len(records) >= expect and time.monotonic() - last > idle:
                break
    finally:
        consumer.close()
    return records


def slack_bodies(real_payloads: Path) -> list[tuple[str, bytes]]:
    """Every real event_callback body. SDK fixtures reuse ids like Ev111, where real Slack gives
    every event its own: each gets a unique event_id here (or none, as one fixture has)."""
    out = []
    for i, path in enumerate(sorted((real_payloads / "slack").rglob("*.json"))):
        body = json.loads(path.read_text())
        if isinstance(body, dict) and body.get("type") == "event_callback":
            if "event_id" in body:
                body["event_id"] = f"Ev{i:04d}{body['event_id']}"
            out.append((path.name, json.dumps(body).encode()))
    return out


async def test_real_slack_events_land_once_each_even_when_slack_retries(
    ingest, kafka_topics, real_payloads, unique_group
):
    client, kafka = ingest
    bodies = slack_bodies(real_payloads)
    sent_ids = set()
    for name, raw in bodies:
        response = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
        assert response.status_code == 200, (name, response.text)
        # Slack retries when it did not see our answer: same event, same id, once on the topic.
        retry = await client.post(
            "/slack/events",
            content=raw,
            headers=slack_headers(raw, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}),
        )
        assert retry.status_code == 200
        body = json.loads(raw)
        sent_ids.add(body.get("event_id") or "")
    records = read_topic(kafka.bootstrap_servers, kafka_topics.slack_events, len(bodies), unique_group)
    values = [json.loads(r.value()) for r in records]
    assert len(values) == len(bodies)
    for value, record in zip(values, records, strict=True):
        validate("threadline.slack.events", 1, value)
        if value["conversation_key"]:
            assert record.key().decode() == value["conversation_key"]
    assert {v["body"].get("event_id") or "" for v in values} == sent_ids


async def test_url_verification_is_answered_with_its_challenge(ingest, real_payloads):
    client, _ = ingest
    raw = (real_payloads / "slack" / "url_verification_docs_challenge.json").read_bytes()
    response = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
    assert response.status_code == 200
    assert response.json() == {"challenge": json.loads(raw)["challenge"]}


async def test_forged_stale_and_tampered_requests_are_refused_and_not_stored(
    ingest, kafka_topics, real_payloads, unique_group
):
    client, kafka = ingest
    raw = (real_payloads / "slack" / "message_channel_top_level_with_blocks.json").read_bytes()
    attempts = [
        slack_headers(raw, secret="not-our-secret"),
        slack_headers(raw, age=6 * 60),
        {"content-type": "application/json"},
    ]
    for headers in attempts:
        assert (await client.post("/slack/events", content=raw, headers=headers)).status_code == 401
    tampered = raw.replace(b"Hello", b"Hellp") if b"Hello" in raw else raw + b" "
    response = await client.post("/slack/events", content=tampered, headers=slack_headers(raw))
    assert response.status_code == 401
    zbody = b'{"type":"zen:event-type:ticket.created","id":"x","time":"t","detail":{"id":"1"}}'
    forged = await client.post("/zendesk/webhook", content=zbody, headers=zendesk_headers(zbody, "wrong"))
    assert forged.status_code == 401
    metrics = (await client.get("/metrics")).text
    assert 'threadline_ingest_signature_failures_total{source="slack"} 4.0' in metrics
    assert read_topic(kafka.bootstrap_servers, kafka_topics.slack_events, 0, unique_group, idle=2) == []


async def test_bad_input_gets_a_clear_4xx_never_a_500(ingest):
    client, _ = ingest
    assert (
        await client.post("/slack/events", content=b"{}", headers={"content-type": "text/plain"})
    ).status_code == 415
    big = b'{"x":"' + b"a" * (1024 * 1024 + 1) + b'"}'
    assert (await client.post("/slack/events", content=big, headers=slack_headers(big))).status_code == 413
    garbage = b'{"type": "event_callback", '
    response = await client.post("/slack/events", content=garbage, headers=slack_headers(garbage))
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    form = b"payload=%7Bnot-json"
    form_headers = {**slack_headers(form), "content-type": "application/x-www-form-urlencoded"}
    assert (await client.post("/slack/interactions", content=form, headers=form_headers)).status_code == 400


async def test_interactions_and_slash_commands_are_stored(ingest, kafka_topics, real_payloads, unique_group):
    client, kafka = ingest
    for route, name in (
        ("/slack/interactions", "block_actions_form_body.txt"),
        ("/slack/commands", "slash_command_form_body.txt"),
    ):
        raw = (real_payloads / "slack" / "interactivity" / name).read_bytes().strip()
        headers = {**slack_headers(raw), "content-type": "application/x-www-form-urlencoded"}
        assert (await client.post(route, content=raw, headers=headers)).status_code == 200
    values = [
        json.loads(r.value()) for r in read_topic(kafka.bootstrap_servers, kafka_topics.slack_events, 2, unique_group)
    ]
    assert sorted(v["kind"] for v in values) == ["interaction", "slash_command"]
    for value in values:
        validate("threadline.slack.events", 1, value)


async def test_zendesk_webhooks_are_keyed_by_ticket(ingest, kafka_topics, real_payloads, unique_group):
    client, kafka = ingest
    body = json.dumps(
        {
            "account_id": 1,
            "detail": {"id": "4017", "external_id": "T1:C1:1.1", "status": "OPEN"},
            "event": {"comment": {"id": "9", "body": "hi", "is_public": True, "author": {"id": "7", "is_staff": True}}},
            "id": "evt-1",
            "subject": "zen:ticket:4017",
            "time": "2026-11-23T10:00:00Z",
            "type": "zen:event-type:ticket.comment_added",
            "zendesk_event_version": "2022-11-06",
        }
    ).encode()
    assert (await client.post("/zendesk/webhook", content=body, headers=zendesk_headers(body))).status_code == 200
    legacy = json.loads(
        (
            real_payloads / "zendesk" / "trigger_webhooks" / "zenslackchat_comment_webhook_body_ok_path_test.json"
        ).read_text()
    )
    legacy["token"] = LEGACY_TOKEN
    raw = json.dumps(legacy).encode()
    assert (
        await client.post("/zendesk/webhook", content=raw, headers={"content-type": "application/json"})
    ).status_code == 200
    wrong = json.dumps({**legacy, "token": "nope"}).encode()
    assert (
        await client.post("/zendesk/webhook", content=wrong, headers={"content-type": "application/json"})
    ).status_code == 401
    records = read_topic(kafka.bootstrap_servers, kafka_topics.zendesk_events, 2, unique_group)
    values = {json.loads(r.value())["kind"]: (r.key(), json.loads(r.value())) for r in records}
    assert set(values) == {"event_webhook", "legacy_trigger"}
    assert values["event_webhook"][0] == b"4017"
    assert "token" not in values["legacy_trigger"][1]["body"]
    for _, value in values.values():
        validate("threadline.zendesk.events", 1, value)


async def test_unmonitored_channels_are_dropped_at_the_edge(kafka_bootstrap, kafka_topics, real_payloads, unique_group):
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    publisher = Publisher(producer_config(kafka), admin_config(kafka))
    app = create_app(settings(monitored_channels=["C0SUPPORT"]), kafka, publisher)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
        raw = (real_payloads / "slack" / "message_channel_top_level_with_blocks.json").read_bytes()
        assert (await client.post("/slack/events", content=raw, headers=slack_headers(raw))).status_code == 200
        assert 'threadline_ingest_dropped_total{reason="channel"} 1.0' in (await client.get("/metrics")).text
    publisher.close()
    assert read_topic(kafka_bootstrap, kafka_topics.slack_events, 0, unique_group, idle=2) == []


async def test_without_kafka_the_answer_is_503_in_time_and_ingest_stays_up(real_payloads):
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    publisher = Publisher(producer_config(kafka), admin_config(kafka))
    app = create_app(settings(ack_timeout_seconds=1.0), kafka, publisher)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as client:
        raw = (real_payloads / "slack" / "message_channel_top_level_with_blocks.json").read_bytes()
        response = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
    publisher.close(timeout=0)


def test_through_real_uvicorn(kafka_bootstrap, kafka_topics, real_payloads, unique_group):
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings(), kafka), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.1)
        raw = (real_payloads / "slack" / "message_thread_reply_in_channel.json").read_bytes()
        response = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=raw, headers=slack_headers(raw))
        assert response.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
        assert {"/slack/events", "/slack/interactions", "/slack/commands", "/zendesk/webhook"} <= set(spec["paths"])
    finally:
        server.should_exit = True  # what SIGTERM does: stop accepting, flush the producer, exit
        thread.join(30)
    assert len(read_topic(kafka_bootstrap, kafka_topics.slack_events, 1, unique_group)) == 1
