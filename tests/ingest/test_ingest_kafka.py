"""Ingest against the real broker: what gets a 200 is on its topic exactly once; what is forged,
stale, replayed, tampered or malformed is refused and is not."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from ingest.support import (
    BASIC_AUTH,
    LEGACY_TOKEN,
    basic_auth_header,
    make_settings,
    read_topic,
    serving,
    slack_headers,
    zendesk_headers,
)

from threadline_common.schemas import validate
from threadline_common.settings import KafkaSettings
from threadline_devstack.infra import free_port
from threadline_ingest.app import create_app

pytestmark = pytest.mark.integration

FORM = "application/x-www-form-urlencoded"


def real_event_bodies(real_payloads: Path) -> list[tuple[str, bytes]]:
    """Every real event_callback body as bytes. The SDK fixtures reuse ids like Ev111 where real
    Slack gives every event its own: each gets a unique event_id here (one fixture has none)."""
    out = []
    for i, path in enumerate(sorted((real_payloads / "slack").glob("*.json"))):
        body = json.loads(path.read_text())
        if body.get("type") == "event_callback":
            if "event_id" in body:
                body["event_id"] = f"Ev{i:04d}{body['event_id']}"
            out.append((path.name, json.dumps(body).encode()))
    return out


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_every_real_slack_event_lands_once_even_when_slack_retries(
    kafka_bootstrap, client, kafka_topics, real_payloads
):
    bodies = real_event_bodies(real_payloads)
    for name, raw in bodies:
        first = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
        assert first.status_code == 200, (name, first.text)
        # Slack retries when it missed our answer: same event, same id; a redelivery much later too.
        for attempt in ("1", "2"):
            retry_headers = slack_headers(raw, **{"x-slack-retry-num": attempt, "x-slack-retry-reason": "http_timeout"})
            assert (await client.post("/slack/events", content=raw, headers=retry_headers)).status_code == 200

    records = read_topic(kafka_bootstrap, kafka_topics.slack_events)
    values = [json.loads(r.value()) for r in records]
    assert sorted(v["body"].get("event_id", "") for v in values) == sorted(
        json.loads(raw).get("event_id", "") for _, raw in bodies
    )
    for record, value in zip(records, values, strict=True):
        validate("threadline.slack.events", 1, value)
        assert value["source"] == "http" and value["retry_num"] is None
        assert record.key().decode() == (value["conversation_key"] or value["team_id"])
        headers = dict(record.headers())
        assert headers["event_id"].decode() == value["event_id"]
        assert headers["kind"] == b"event_callback"
    metrics = (await client.get("/metrics")).text
    assert metric(metrics, "threadline_ingest_duplicates_skipped_total") == 2 * len(bodies)


async def test_the_first_delivery_stored_is_the_one_recorded_with_its_retry_number(
    kafka_bootstrap, client, kafka_topics, real_payloads
):
    raw = (real_payloads / "slack" / "message_thread_reply_in_channel.json").read_bytes()
    # Our 200 to the first delivery got lost; Slack's second retry is the first we see.
    headers = slack_headers(raw, **{"x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout"})
    assert (await client.post("/slack/events", content=raw, headers=headers)).status_code == 200
    [record] = read_topic(kafka_bootstrap, kafka_topics.slack_events)
    value = json.loads(record.value())
    assert (value["retry_num"], value["retry_reason"]) == (2, "http_timeout")
    assert dict(record.headers())["retry_num"] == b"2"
    assert record.key() == b"T111:C111:1726133698.626339"


async def test_url_verification_is_answered_with_its_challenge_and_not_stored(
    kafka_bootstrap, client, kafka_topics, real_payloads
):
    for name in ("url_verification.json", "url_verification_docs_challenge.json"):
        raw = (real_payloads / "slack" / name).read_bytes()
        response = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
        assert response.status_code == 200
        assert response.json() == {"challenge": json.loads(raw)["challenge"]}
    assert read_topic(kafka_bootstrap, kafka_topics.slack_events) == []


async def test_forged_stale_replayed_and_tampered_requests_are_refused_and_not_stored(
    kafka_bootstrap, client, kafka_topics, real_payloads
):
    raw = (real_payloads / "slack" / "message_channel_top_level_with_blocks.json").read_bytes()
    other = (real_payloads / "slack" / "app_mention.json").read_bytes()
    attempts = {
        "forged with another secret": (raw, slack_headers(raw, secret="not-our-secret")),
        "stale (6 minutes old)": (raw, slack_headers(raw, age=6 * 60)),
        "from the future": (raw, slack_headers(raw, age=-6 * 60)),
        "unsigned": (raw, {"content-type": "application/json"}),
        "replayed signature with another body": (other, slack_headers(raw)),
        "tampered body": (raw.replace(b"C111", b"C112"), slack_headers(raw)),
        "signature of the body, timestamp changed": (
            raw,
            {**slack_headers(raw), "x-slack-request-timestamp": str(int(time.time()) - 1)},
        ),
    }
    for what, (body, headers) in attempts.items():
        response = await client.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 401, what
        assert response.json() == {"ok": False, "error": "invalid signature"}
    form = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    for route in ("/slack/interactions", "/slack/commands"):
        forged = slack_headers(form, secret="not-our-secret", content_type=FORM)
        assert (await client.post(route, content=form, headers=forged)).status_code == 401
    zbody = b'{"type":"zen:event-type:ticket.created","id":"x"}'
    for headers in (zendesk_headers(zbody, secret="wrong"), zendesk_headers(zbody, age=6 * 60)):
        assert (await client.post("/zendesk/webhook", content=zbody, headers=headers)).status_code == 401

    metrics = (await client.get("/metrics")).text
    assert metric(metrics, 'threadline_ingest_signature_failures_total{source="slack"}') == len(attempts) + 2
    assert metric(metrics, 'threadline_ingest_signature_failures_total{source="zendesk"}') == 2
    assert read_topic(kafka_bootstrap, kafka_topics.slack_events) == []
    assert read_topic(kafka_bootstrap, kafka_topics.zendesk_events) == []


async def test_bad_input_gets_a_clear_4xx_never_a_500(kafka_bootstrap, client, kafka_topics):
    wrong_type = await client.post(
        "/slack/events", content=b"{}", headers=slack_headers(b"{}", content_type="text/plain")
    )
    assert wrong_type.status_code == 415
    assert (await client.post("/slack/commands", content=b"{}", headers=slack_headers(b"{}"))).status_code == 415

    big = b'{"x":"' + b"a" * (1024 * 1024) + b'"}'
    assert (await client.post("/slack/events", content=big, headers=slack_headers(big))).status_code == 413

    async def streamed():  # chunked: no Content-Length to trust, the limit holds while reading
        for _ in range(20):
            yield b"a" * 65536

    chunked = await client.post("/zendesk/webhook", content=streamed(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413

    for garbage in (b'{"type": "event_callback", ', b"[1,2]", b'{"x": NaN}', b"[" * 50_000, b"\xff\xfe"):
        response = await client.post("/slack/events", content=garbage, headers=slack_headers(garbage))
        assert response.status_code == 400, garbage[:20]
    no_event = b'{"type":"event_callback","team_id":"T1"}'
    assert (await client.post("/slack/events", content=no_event, headers=slack_headers(no_event))).status_code == 400
    for form in (b"payload=%7Bnot-json", b"text=hello", b"payload=%5B1%5D"):
        headers = slack_headers(form, content_type=FORM)
        assert (await client.post("/slack/interactions", content=form, headers=headers)).status_code == 400
    not_a_command = b"text=hello&team_id=T1"
    headers = slack_headers(not_a_command, content_type=FORM)
    assert (await client.post("/slack/commands", content=not_a_command, headers=headers)).status_code == 400
    assert read_topic(kafka_bootstrap, kafka_topics.slack_events) == []


async def test_interactions_and_slash_commands_are_stored_and_answered(
    kafka_bootstrap, client, kafka_topics, real_payloads
):
    folder = real_payloads / "slack" / "interactivity"
    interaction = (folder / "block_actions_form_body.txt").read_bytes().strip()
    response = await client.post(
        "/slack/interactions", content=interaction, headers=slack_headers(interaction, content_type=FORM)
    )
    assert (response.status_code, response.content) == (200, b"")
    command = (folder / "slash_command_form_body.txt").read_bytes().strip()
    response = await client.post("/slack/commands", content=command, headers=slack_headers(command, content_type=FORM))
    # Acknowledged at once with an empty body: Slack shows nothing until the answer comes through response_url.
    assert (response.status_code, response.content) == (200, b"")
    # Slack's certificate check of a command URL: unsigned, answered, not stored.
    ssl_check = b"ssl_check=1&token=verification_token"
    response = await client.post("/slack/commands", content=ssl_check, headers={"content-type": FORM})
    assert response.status_code == 200

    values = [json.loads(r.value()) for r in read_topic(kafka_bootstrap, kafka_topics.slack_events)]
    assert sorted(v["kind"] for v in values) == ["interaction", "slash_command"]
    for value in values:
        validate("threadline.slack.events", 1, value)
    by_kind = {v["kind"]: v for v in values}
    decoded = json.loads((folder / "block_actions_payload_decoded.json").read_text())
    assert by_kind["interaction"]["body"] == decoded
    assert by_kind["interaction"]["conversation_key"] == "T111:C111:111.222"
    assert by_kind["slash_command"]["body"]["command"] == "/hello-world"
    assert by_kind["slash_command"]["body"]["text"] == "Hi"


async def test_a_slash_command_from_a_workspace_threadline_does_not_serve_gets_one_line(
    kafka_bootstrap, app_factory, kafka_topics, real_payloads
):
    command = (real_payloads / "slack" / "interactivity" / "slash_command_form_body.txt").read_bytes().strip()
    async with serving(app_factory(slack_team_ids=["T999"])) as client:
        response = await client.post(
            "/slack/commands", content=command, headers=slack_headers(command, content_type=FORM)
        )
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": "Threadline does not serve this workspace."}
    assert read_topic(kafka_bootstrap, kafka_topics.slack_events) == []


async def test_zendesk_webhooks_are_keyed_by_ticket(kafka_bootstrap, client, kafka_topics, real_payloads):
    event = {
        "account_id": 1,
        "detail": {"id": "4017", "external_id": "T1:C1:1.1", "status": "OPEN"},
        "event": {"comment": {"id": "9", "body": "hi", "is_public": True, "author": {"id": "7", "is_staff": True}}},
        "id": "evt-1",
        "subject": "zen:ticket:4017",
        "time": "2026-11-23T10:00:00Z",
        "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06",
    }
    signed = json.dumps(event).encode()
    assert (await client.post("/zendesk/webhook", content=signed, headers=zendesk_headers(signed))).status_code == 200
    # Zendesk retries what it thinks failed: the same event is stored once.
    assert (await client.post("/zendesk/webhook", content=signed, headers=zendesk_headers(signed))).status_code == 200

    triggers = real_payloads / "zendesk" / "trigger_webhooks"
    legacy = json.loads((triggers / "zenslackchat_comment_webhook_body_ok_path_test.json").read_text())
    legacy_raw = json.dumps({**legacy, "token": LEGACY_TOKEN}).encode()
    plain = {"content-type": "application/json"}
    assert (await client.post("/zendesk/webhook", content=legacy_raw, headers=plain)).status_code == 200
    # One trigger fired twice with the same rendered body (then retried by Zendesk): two events.
    for invocation in ("8350205582", "8350205583", "8350205583"):
        headers = {**zendesk_headers(legacy_raw), "x-zendesk-webhook-invocation-id": invocation}
        assert (await client.post("/zendesk/webhook", content=legacy_raw, headers=headers)).status_code == 200
    target = json.dumps({"ticket_id": "77", "comment": "from a target with basic auth"}).encode()
    with_basic = {**plain, "authorization": basic_auth_header(*BASIC_AUTH)}
    assert (await client.post("/zendesk/webhook", content=target, headers=with_basic)).status_code == 200

    refused = {
        "wrong token": (json.dumps({**legacy, "token": "nope"}).encode(), plain),
        "missing token": ((triggers / "zenslackchat_webhook_body_missing_token_test.json").read_bytes(), plain),
        "wrong basic auth": (target, {**plain, "authorization": basic_auth_header(BASIC_AUTH[0], "nope")}),
        "unsigned, unreadable": (b'{"ticket_id": "1", "token": "', plain),
    }
    for what, (body, headers) in refused.items():
        assert (await client.post("/zendesk/webhook", content=body, headers=headers)).status_code == 401, what
    # Signed but malformed: a Liquid template that inserted a comment raw, or not an event at all.
    broken = b'{"ticket_id": "5", "message": "He said "stop"\nthen left"}'
    assert (await client.post("/zendesk/webhook", content=broken, headers=zendesk_headers(broken))).status_code == 400
    half = json.dumps({"type": "zen:event-type:ticket.created", "id": "e2"}).encode()
    assert (await client.post("/zendesk/webhook", content=half, headers=zendesk_headers(half))).status_code == 400

    records = read_topic(kafka_bootstrap, kafka_topics.zendesk_events)
    by_key = {r.key(): json.loads(r.value()) for r in records}
    assert len(records) == 5
    assert set(by_key) == {b"4017", b"1430", b"77"}
    legacy_ids = {json.loads(r.value())["event_id"] for r in records if r.key() == b"1430"}
    by_body = legacy_ids - {"invocation:8350205582", "invocation:8350205583"}
    assert len(legacy_ids) == 3 and len(by_body.pop()) == 64  # without an invocation id: sha256 of the body
    assert by_key[b"4017"]["kind"] == "event_webhook" and by_key[b"4017"]["webhook_id"] == "01HWEBHOOKID"
    assert by_key[b"4017"]["event_id"] == "evt-1"
    assert by_key[b"1430"]["kind"] == "legacy_trigger" and "token" not in by_key[b"1430"]["body"]
    assert by_key[b"77"]["kind"] == "legacy_trigger"
    for value in by_key.values():
        validate("threadline.zendesk.events", 1, value)


async def test_other_channels_workspaces_and_apps_are_dropped_at_the_edge(
    kafka_bootstrap, app_factory, kafka_topics, real_payloads
):
    app = app_factory(monitored_channels=["C0SUPPORT"], slack_team_ids=["T111", "INSTALLED_TEAM_ID"])
    async with serving(app) as client:
        for name in (
            "message_channel_top_level_with_blocks.json",  # C111 is not monitored
            "reaction_added_dm_message_item.json",  # another workspace
            "app_uninstalled.json",  # never dropped
        ):
            raw = (real_payloads / "slack" / name).read_bytes()
            assert (await client.post("/slack/events", content=raw, headers=slack_headers(raw))).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert metric(metrics, 'threadline_ingest_dropped_total{reason="channel"}') == 1
    assert metric(metrics, 'threadline_ingest_dropped_total{reason="workspace"}') == 1
    [stored] = read_topic(kafka_bootstrap, kafka_topics.slack_events)
    assert json.loads(stored.value())["body"]["event"]["type"] == "app_uninstalled"


async def test_many_concurrent_requests_share_the_producer_and_all_land(kafka_bootstrap, client, kafka_topics):
    def body(i: int) -> bytes:
        event = {"type": "message", "channel": "C1", "user": "U1", "text": f"m{i}", "ts": f"1700000000.{i:06d}"}
        return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": f"EvC{i}", "event": event}).encode()

    raws = [body(i) for i in range(300)]
    responses = await asyncio.gather(
        *(client.post("/slack/events", content=raw, headers=slack_headers(raw)) for raw in raws)
    )
    assert {r.status_code for r in responses} == {200}
    records = read_topic(kafka_bootstrap, kafka_topics.slack_events)
    assert sorted(json.loads(r.value())["event_id"] for r in records) == sorted(f"EvC{i}" for i in range(300))


async def test_without_kafka_the_answer_is_503_within_slacks_deadline_and_ingest_stays_up(real_payloads):
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")  # nothing listens there
    app = create_app(make_settings(ack_timeout_seconds=0.5, flush_timeout_seconds=0.5), kafka)
    raw = (real_payloads / "slack" / "message_channel_top_level_with_blocks.json").read_bytes()
    async with serving(app) as client:
        for _ in range(2):
            started = time.monotonic()
            response = await client.post("/slack/events", content=raw, headers=slack_headers(raw))
            # Slack gives up after 3 s; a 503 before that makes it retry.
            assert time.monotonic() - started < 3.0
            assert response.status_code == 503 and response.headers["retry-after"] == "1"
        zbody = b'{"ticket_id": "1", "token": "' + LEGACY_TOKEN.encode() + b'"}'
        response = await client.post("/zendesk/webhook", content=zbody, headers={"content-type": "application/json"})
        assert response.status_code == 503
        assert (await client.get("/healthz")).json() == {"alive": True}
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"kafka": False}
        metrics = (await client.get("/metrics")).text
    assert metric(metrics, 'threadline_ingest_requests_total{route="/slack/events",status="503"}') == 2
