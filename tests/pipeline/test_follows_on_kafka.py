"""The follows table on the real broker, with ingest and the router as processes: `/support
follow 42` becomes a zendesk.check_follower command; zendesk-sync's follower_checked (written
here as it would) stores the follower; a public agent comment on the ticket becomes one DM and an
internal note none; and a SIGKILLed router reads its follows back from threadline.follows."""

from __future__ import annotations

import json
import time
import urllib.parse

import httpx
import pytest
from confluent_kafka import Producer
from slack_sdk.signature import SignatureVerifier
from threadline_testing.kafka import read_topic

from threadline_common.contracts import Topics
from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import group_lag
from threadline_devstack.waiting import wait_until
from threadline_ingest.verify import zendesk_signature

from .conftest import stop_all

pytestmark = pytest.mark.integration
SLACK_SECRET, ZENDESK_SECRET = "follows-slack-secret", "follows-zendesk-secret"


def slash_form(text: str, user: str = "U0CAROL") -> tuple[bytes, dict[str, str]]:
    form = {
        "token": "t", "team_id": "T1", "team_domain": "acme", "channel_id": "C1", "channel_name": "support",
        "user_id": user, "user_name": user.lower(), "command": "/support", "text": text, "api_app_id": "A1",
        "response_url": f"https://hooks.slack.com/commands/T1/1/{user}", "trigger_id": "1.2.3",
    }  # fmt: skip
    raw = urllib.parse.urlencode(form).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=raw)
    return raw, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def comment_webhook(ticket_id: int, comment_id: int, body: str, public: bool = True) -> tuple[bytes, dict[str, str]]:
    event = {
        "account_id": 1,
        "detail": {"id": str(ticket_id), "external_id": None, "status": "OPEN", "subject": "Printer"},
        "event": {"comment": {"id": str(comment_id), "body": body, "is_public": public,
                              "author": {"id": "7", "name": "Agent Ann", "is_staff": True}}},
        "id": f"evt-{comment_id}",
        "subject": f"zen:ticket:{ticket_id}",
        "time": "2026-11-23T10:00:00Z",
        "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06",
    }  # fmt: skip
    raw = json.dumps(event).encode()
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return raw, {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": zendesk_signature(ZENDESK_SECRET, ts, raw),
        "x-zendesk-webhook-signature-timestamp": ts,
        "x-zendesk-webhook-id": "01HWEBHOOKID",
    }


def routed(bootstrap: str, topics: Topics) -> list[dict]:
    """Every command once the router has committed everything it was sent."""
    wait_until(
        "the router's commit past every event",
        lambda: group_lag(
            bootstrap, "threadline-router", [topics.slack_events, topics.zendesk_events, topics.results,
                                             topics.router_inbound]
        ) == 0,
        timeout=120,
    )  # fmt: skip
    return [json.loads(m.value()) for m in read_topic(bootstrap, topics.commands)]


@pytest.fixture
def stack(kafka_bootstrap, kafka_topics, tmp_path):
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  C1: {name: support, zendesk: {group_id: 10}}\n")
    env = services.ServiceEnv(kafka_bootstrap=kafka_bootstrap, topic_prefix=kafka_topics.prefix, run_dir=tmp_path)
    ingest_port, router_port = free_port(), free_port()
    ingest = services.ingest(env, ingest_port, SLACK_SECRET, ZENDESK_SECRET).start()
    router = services.router(
        env, channels, router_port, partitions="2", store="memory://", slack_bot_id="BBOT", log_format="text"
    ).start()
    try:
        services.wait_http(f"http://127.0.0.1:{ingest_port}/readyz", ingest)
        services.wait_http(f"http://127.0.0.1:{router_port}/readyz", router)
        yield {"ingest": f"http://127.0.0.1:{ingest_port}", "router": router, "port": router_port}
    finally:
        stop_all((ingest, router))


def test_a_follow_is_stored_in_kafka_and_survives_a_killed_router(stack, kafka_bootstrap, kafka_topics):
    topics = kafka_topics
    with httpx.Client(base_url=stack["ingest"], timeout=10) as client:
        raw, headers = slash_form("follow 42 replies")
        answer = client.post("/slack/commands", content=raw, headers=headers)
        assert (answer.status_code, answer.content) == (200, b"")
        [check] = [c for c in routed(kafka_bootstrap, topics) if c["type"] == "zendesk.check_follower"]
        assert (check["conversation_id"], check["ticket_id"], check["user"]) == ("ticket:42", 42, "U0CAROL")

        result = {
            "schema_version": 3, "kind": "follower_checked", "conversation_id": "ticket:42",
            "command_id": check["command_id"], "command_type": "zendesk.check_follower", "ticket_id": 42,
            "ticket_url": "https://acme.zendesk.com/agent/tickets/42",
            "follower": {"team_id": "T1", "user": "U0CAROL", "sees_thread": True, "choices": check["choices"]},
        }  # fmt: skip
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        producer.produce(topics.results, key=b"ticket:42", value=json.dumps(result).encode())
        producer.flush(10)
        routed(kafka_bootstrap, topics)

        for comment_id, public in ((501, True), (502, False)):
            raw, headers = comment_webhook(42, comment_id, f"comment {comment_id}", public)
            assert client.post("/zendesk/webhook", content=raw, headers=headers).status_code == 200
        dms = [c for c in routed(kafka_bootstrap, topics) if c["type"] == "slack.direct_message"]
        assert [(d["user"], d["conversation_id"]) for d in dms] == [("U0CAROL", "ticket:42")]
        assert "comment 501" in dms[0]["text"]

        stack["router"].kill()  # a crash: the follows come back from threadline.follows
        stack["router"].start()
        services.wait_http(f"http://127.0.0.1:{stack['port']}/readyz", stack["router"])
        raw, headers = comment_webhook(42, 503, "after the restart")
        assert client.post("/zendesk/webhook", content=raw, headers=headers).status_code == 200
        dms = [c for c in routed(kafka_bootstrap, topics) if c["type"] == "slack.direct_message"]
        assert {d["command_id"] for d in dms} == {"follow-dm:42:U0CAROL:evt-501", "follow-dm:42:U0CAROL:evt-503"}
        follows = read_topic(kafka_bootstrap, topics.name("threadline.follows"))
        assert {m.key() for m in follows} == {b"ticket:42", b"person:T1:U0CAROL"}
