"""Socket Mode against a local Slack stand-in speaking its wire protocol (apps.connections.open,
then a websocket with hello, envelopes and acknowledgements), driven by slack_sdk's own client."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import WSMsgType, web
from ingest.support import make_settings, read_topic, serving
from slack_sdk.socket_mode.request import SocketModeRequest

from threadline_common.contracts import Topics
from threadline_common.schemas import validate
from threadline_common.settings import KafkaSettings
from threadline_devstack.infra import free_port
from threadline_ingest.app import create_app
from threadline_ingest.metrics import Metrics
from threadline_ingest.publisher import Publisher
from threadline_ingest.service import Ingest
from threadline_ingest.socket_mode import handle_envelope

pytestmark = pytest.mark.integration

APP_TOKEN = "xapp-1-A111-1-socket-mode-test-token"


@dataclass
class FakeSocketModeSlack:
    """apps.connections.open returns a ws:// URL; the websocket says hello, sends what the test
    queues and reports every acknowledgement it gets back."""

    port: int
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: asyncio.Queue[dict] = field(default_factory=asyncio.Queue)
    acks: asyncio.Queue[dict] = field(default_factory=asyncio.Queue)
    tokens_seen: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def connections_open(self, request: web.Request) -> web.Response:
        self.tokens_seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}"})

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}}
        await ws.send_json({**hello, "debug_info": {"host": "fake", "approximate_connection_time": 18060}})
        self.connected.set()

        async def forward() -> None:
            while True:
                await ws.send_json(await self.outbox.get())

        sender = asyncio.create_task(forward())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self.acks.put(json.loads(message.data))
        finally:
            sender.cancel()
        return ws

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self.connections_open)
        app.router.add_get("/link/", self.link)
        return app


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSocketModeSlack]:
    fake = FakeSocketModeSlack(port=free_port())
    runner = web.AppRunner(fake.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", fake.port).start()
    yield fake
    await runner.cleanup()


def envelope(kind: str, payload: dict, retry_attempt: int | None = None) -> dict:
    message = {"envelope_id": str(uuid.uuid4()), "type": kind, "payload": payload, "accepts_response_payload": False}
    if kind == "events_api":
        message.update(retry_attempt=retry_attempt or 0, retry_reason="timeout" if retry_attempt else "")
    if kind == "slash_commands":
        message["accepts_response_payload"] = True
    return message


async def test_socket_mode_envelopes_are_stored_then_acknowledged(
    fake_slack, kafka_bootstrap, kafka_topics, real_payloads
):
    slack = real_payloads / "slack"
    event = json.loads((slack / "app_mention_blocks_user_element.json").read_text())
    interaction = json.loads((slack / "interactivity" / "block_actions_with_message_socket_mode.json").read_text())
    command = {
        "token": "verification-token",
        "team_id": "T111",
        "channel_id": "C111",
        "user_id": "U111",
        "command": "/hello-socket-mode",
        "text": "",
        "api_app_id": "A111",
        "response_url": "https://hooks.slack.com/commands/T111/111/xxx",
        "trigger_id": "111.222.xxx",
    }
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    # Socket Mode only: no signing secret, so the HTTP Slack routes refuse everything.
    settings = make_settings(slack_signing_secret=None, slack_app_token=APP_TOKEN, slack_api_url=fake_slack.api_url)
    app = create_app(settings, kafka)
    async with serving(app) as client:
        await asyncio.wait_for(fake_slack.connected.wait(), 30)
        assert fake_slack.tokens_seen == [f"Bearer {APP_TOKEN}"]
        sent = [
            envelope("events_api", event),
            envelope("interactive", interaction),
            envelope("slash_commands", command),
            envelope("events_api", event, retry_attempt=1),  # Slack's redelivery of the same event
        ]
        for message in sent:
            await fake_slack.outbox.put(message)
        acks = {}
        for _ in sent:
            ack = await asyncio.wait_for(fake_slack.acks.get(), 30)
            acks[ack["envelope_id"]] = ack
        assert set(acks) == {m["envelope_id"] for m in sent}
        assert not acks[sent[2]["envelope_id"]].get("payload")  # empty: the router answers via response_url
        ready = (await client.get("/readyz")).json()
        assert ready == {"ready": True, "checks": {"kafka": True, "slack_socket_mode": True}}
        raw = json.dumps(event).encode()
        http = await client.post("/slack/events", content=raw, headers={"content-type": "application/json"})
        assert http.status_code == 401

    records = read_topic(kafka_bootstrap, kafka_topics.slack_events)
    values = {json.loads(r.value())["kind"]: (r, json.loads(r.value())) for r in records}
    assert len(records) == 3 and set(values) == {"event_callback", "interaction", "slash_command"}
    for _, value in values.values():
        validate("threadline.slack.events", 1, value)
        assert value["source"] == "socket_mode"
    record, value = values["event_callback"]
    assert value["body"] == event and value["event_id"] == event["event_id"] and value["retry_num"] is None
    assert record.key() == b"T111:C111:1610241741.000200"
    assert values["interaction"][1]["conversation_key"] == "T0G9PQBBK:C111:1678252213.679169"
    assert values["slash_command"][1]["body"] == command


async def test_an_envelope_kafka_did_not_take_is_not_acknowledged(real_payloads: Path):
    """Slack redelivers an unacknowledged envelope, as it retries a 503 over HTTP."""
    settings = make_settings(ack_timeout_seconds=0.3)
    ingest = Ingest(settings, Topics("t."), Metrics())
    ingest.publisher = Publisher({"bootstrap.servers": f"127.0.0.1:{free_port()}"})  # nothing listens
    try:
        body = json.loads((real_payloads / "slack" / "app_mention.json").read_text())
        message = envelope("events_api", body)
        request = SocketModeRequest.from_dict(message)
        assert request is not None
        assert await handle_envelope(ingest, request) is None
        # Malformed envelopes will never become valid: acknowledged (and counted), not redelivered forever.
        broken = SocketModeRequest.from_dict(envelope("events_api", {"type": "event_callback", "event": "x"}))
        assert broken is not None
        assert await handle_envelope(ingest, broken) == {}
    finally:
        ingest.publisher.close(timeout=0)
