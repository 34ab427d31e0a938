"""The HTTP edges that need no broker: refusals before anything is published, the never-a-500
rule, and the OpenAPI document."""

import json

import httpx
import pytest
from ingest.support import make_settings, slack_headers, zendesk_headers

from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app

pytestmark = pytest.mark.unit

NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # never contacted: the lifespan is not run here


def client_of(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest")


async def test_refusals_happen_before_anything_would_be_published():
    app = create_app(make_settings(max_body_bytes=100), NOWHERE)
    async with client_of(app) as client:
        body = b'{"type":"event_callback","event":{"type":"message"}}'
        cases = [
            ("/slack/events", body, {**slack_headers(body), "content-type": "text/plain"}, 415),
            ("/slack/events", b"{" + b" " * 200 + b"}", slack_headers(b"{" + b" " * 200 + b"}"), 413),
            ("/slack/events", body, {"content-type": "application/json; charset=utf-8"}, 401),
            ("/slack/interactions", body, slack_headers(body), 415),
            ("/zendesk/webhook", body, {"content-type": "application/json"}, 401),
            ("/zendesk/webhook", body, {**zendesk_headers(body), "x-zendesk-webhook-signature": "AAAA"}, 401),
        ]
        for path, content, headers, status in cases:
            response = await client.post(path, content=content, headers=headers)
            assert response.status_code == status, (path, status)
            assert response.json()["ok"] is False


async def test_a_signed_event_before_the_producer_runs_is_a_503_so_that_slack_retries():
    app = create_app(make_settings(), NOWHERE)
    async with client_of(app) as client:
        body = b'{"type":"event_callback","team_id":"T1","event":{"type":"message","channel":"C1","ts":"1.2"}}'
        response = await client.post("/slack/events", content=body, headers=slack_headers(body))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


async def test_an_unexpected_error_is_a_503_never_a_500(monkeypatch):
    app = create_app(make_settings(), NOWHERE)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.ingest, "slack", broken)
    async with client_of(app) as client:
        body = b'{"type":"event_callback","event":{"type":"message"}}'
        response = await client.post("/slack/events", content=body, headers=slack_headers(body))
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert 'threadline_ingest_requests_total{route="/slack/events",status="503"} 1.0' in metrics


async def test_socket_mode_only_refuses_http_slack_requests():
    app = create_app(make_settings(slack_signing_secret=None, slack_app_token="xapp-1-A1-1-abc"), NOWHERE)
    async with client_of(app) as client:
        body = b'{"type":"url_verification","challenge":"x"}'
        assert (await client.post("/slack/events", content=body, headers=slack_headers(body))).status_code == 401


def test_the_openapi_document_describes_raw_signed_bodies_and_every_answer():
    spec = create_app(make_settings(), NOWHERE).openapi()
    events = spec["paths"]["/slack/events"]["post"]
    assert events["requestBody"]["content"]["application/json"]["schema"] == {"type": "string", "format": "binary"}
    assert {p["name"] for p in events["parameters"] if p["required"]} == {
        "X-Slack-Request-Timestamp",
        "X-Slack-Signature",
    }
    for path in ("/slack/events", "/slack/interactions", "/slack/commands", "/zendesk/webhook"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "400", "401", "413", "415", "503"} <= set(responses), path
        assert "Retry-After" in responses["503"]["headers"]
    form = spec["paths"]["/slack/interactions"]["post"]["requestBody"]["content"]
    assert set(form) == {"application/x-www-form-urlencoded"}
    zendesk = {p["name"] for p in spec["paths"]["/zendesk/webhook"]["post"]["parameters"]}
    assert {"X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"} <= zendesk
    json.dumps(spec)  # serialisable as served
