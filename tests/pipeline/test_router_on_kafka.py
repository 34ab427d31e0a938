"""The router as its own process on the real broker: signed Slack events through ingest become
one command each, in order, and a SIGKILLed router resumes from the changelog without opening a
second ticket."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from threadline_testing.kafka import read_topic

from threadline_common.contracts import Topics
from threadline_devstack import services
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import group_lag
from threadline_devstack.waiting import wait_until

from .conftest import stop_all

pytestmark = pytest.mark.integration
SECRET = "pipeline-signing-secret"


def signed(body: dict) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    return raw, {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=raw),
    }


def message(channel: str, ts: str, text: str, user: str = "U1", thread_ts: str | None = None) -> dict:
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "channel_type": "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "t",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": int(time.time()),
    }


def commands_once_routed(bootstrap: str, topics: Topics) -> list[dict]:
    """Every command on the topic once the router has committed every event ingest published: it
    commits an event only after its commands are on Kafka, so the topic then holds all of them
    (and any a replay repeated)."""
    wait_until(
        "the router's commit past every event",
        lambda: group_lag(bootstrap, "threadline-router", [topics.slack_events, topics.router_inbound]) == 0,
        timeout=120,
    )
    return [json.loads(m.value()) for m in read_topic(bootstrap, topics.commands)]


@pytest.fixture
def stack(kafka_bootstrap, kafka_topics, tmp_path):
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  C1: {name: support, zendesk: {group_id: 10}}\n")
    env = services.ServiceEnv(kafka_bootstrap=kafka_bootstrap, topic_prefix=kafka_topics.prefix, run_dir=tmp_path)
    ingest_port, router_port = free_port(), free_port()
    ingest = services.ingest(env, ingest_port, SECRET, "zendesk-secret").start()
    router = services.router(
        env, channels, router_port, partitions="2", store="memory://", slack_bot_id="BBOT", log_format="text"
    ).start()
    try:
        services.wait_http(f"http://127.0.0.1:{ingest_port}/readyz", ingest)
        services.wait_http(f"http://127.0.0.1:{router_port}/readyz", router)
        yield {"ingest": f"http://127.0.0.1:{ingest_port}", "router": router, "topics": kafka_topics, "env": env}
    finally:
        stop_all((ingest, router))


def test_threads_become_ordered_commands_and_a_killed_router_opens_no_second_ticket(stack, kafka_bootstrap):
    url, router, topics = stack["ingest"], stack["router"], stack["topics"]
    threads = [f"{1700000000 + i}.000100" for i in range(6)]
    with httpx.Client(base_url=url, timeout=10) as client:
        for root in threads[:3]:
            raw, headers = signed(message("C1", root, f"help with {root}"))
            assert client.post("/slack/events", content=raw, headers=headers).status_code == 200
            for n in range(2):
                raw, headers = signed(message("C1", f"{root[:-3]}2{n}0", f"reply {n}", "U2", root))
                assert client.post("/slack/events", content=raw, headers=headers).status_code == 200
        first = commands_once_routed(kafka_bootstrap, topics)
        assert len(first) == 9

        router.kill()  # a crash, not a shutdown
        router.start()
        for root in threads[3:]:
            raw, headers = signed(message("C1", root, f"help with {root}"))
            assert client.post("/slack/events", content=raw, headers=headers).status_code == 200
        # The replayed table knows the first threads: a late reply is a comment, not a ticket.
        raw, headers = signed(message("C1", f"{threads[0][:-3]}900", "late reply", "U2", threads[0]))
        assert client.post("/slack/events", content=raw, headers=headers).status_code == 200
        commands = commands_once_routed(kafka_bootstrap, topics)

    creates = [c for c in commands if c["type"] == "zendesk.create_ticket"]
    assert sorted({c["conversation_id"] for c in creates}) == sorted(f"T1:C1:{root}" for root in threads)
    by_thread: dict[str, list[str]] = {}
    for c in commands:
        if c["command_id"] in [x["command_id"] for x in commands[: commands.index(c)]]:
            continue  # a replay after the crash repeats an id; zendesk-sync performs it once
        by_thread.setdefault(c["conversation_id"], []).append(c["type"])
    first_thread = by_thread[f"T1:C1:{threads[0]}"]
    assert first_thread == ["zendesk.create_ticket"] + ["zendesk.add_comment"] * 3
    assert len({c["command_id"] for c in commands}) == 13
