"""Every route ingest serves, but its probes, /metrics and its OpenAPI document, refuses a request
that is not signed by Slack or Zendesk with 401 (enumerated from the app, so a new route is
checked too), and nothing else is served: no interactive docs on the internet-facing door."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from ingest.support import make_settings
from starlette.routing import Route

from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app

pytestmark = pytest.mark.unit
OPEN = {"/healthz", "/readyz", "/metrics", "/openapi.json"}


def test_every_webhook_route_refuses_an_unsigned_request_and_nothing_else_is_served():
    # Not started (no lifespan): the producer is never made, so this needs no broker.
    app = create_app(make_settings(), KafkaSettings(bootstrap_servers="127.0.0.1:9"))
    client = TestClient(app)
    served = {
        (m, r.path) for r in app.routes if isinstance(r, APIRoute | Route) for m in (r.methods or ()) if m != "HEAD"
    }
    assert {path for _, path in served} - OPEN == {
        "/slack/events",
        "/slack/interactions",
        "/slack/commands",
        "/zendesk/webhook",
    }
    for method, path in sorted(served):
        if path in OPEN:
            continue
        for content_type, body in (("application/json", b"{}"), ("application/x-www-form-urlencoded", b"a=b")):
            answer = client.request(method, path, content=body, headers={"Content-Type": content_type})
            assert answer.status_code in (401, 415), (method, path, content_type, answer.status_code)
        expected = (
            "application/json" if path in ("/slack/events", "/zendesk/webhook") else "application/x-www-form-urlencoded"
        )
        answer = client.request(
            method, path, content=b"{}" if "json" in expected else b"a=b", headers={"Content-Type": expected}
        )
        assert answer.status_code == 401, (method, path)
    for path in ("/docs", "/redoc"):
        assert client.get(path).status_code == 404
