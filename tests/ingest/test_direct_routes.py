"""The webhook routes are served directly (verification.VerifiedRoute.direct), around FastAPI's
dependency solving: all four of ingest's, no route of another shape, and never past an override
of the verifying dependency (then FastAPI serves the route, honouring it)."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from ingest.support import make_settings, slack_headers

from threadline_common.settings import KafkaSettings
from threadline_ingest.answers import JSON, SLACK_HEADERS, signed_body
from threadline_ingest.app import create_app
from threadline_ingest.verification import direct_routes, source_router, verified_slack

pytestmark = pytest.mark.unit
NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # not started (no lifespan): no broker needed


def test_the_four_webhook_routes_and_only_they_are_served_directly():
    app = create_app(make_settings(), NOWHERE)
    router = source_router(verified_slack, prefix="/slack")

    @router.post("/other", openapi_extra=signed_body(JSON, "takes the request only", SLACK_HEADERS))
    async def other(request: Request) -> dict[str, bool]:
        return {"reached": True}

    app.include_router(router)
    assert set(direct_routes(app.routes)) == {
        ("POST", "/slack/events"),
        ("POST", "/slack/interactions"),
        ("POST", "/slack/commands"),
        ("POST", "/zendesk/webhook"),
    }


def test_an_override_of_the_verifying_dependency_is_honoured():
    app = create_app(make_settings(), NOWHERE)
    body = b'{"type":"url_verification","challenge":"c"}'
    client = TestClient(app)
    assert client.post("/slack/events", content=body, headers={"content-type": JSON}).status_code == 401

    async def trusting(request: Request) -> bytes:
        return await request.body()

    app.dependency_overrides[verified_slack] = trusting
    answer = client.post("/slack/events", content=body, headers={"content-type": JSON})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"challenge": "c"}
    assert client.post("/slack/events", content=body, headers=slack_headers(body)).json() == {"challenge": "c"}
