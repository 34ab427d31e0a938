"""Every route ingest serves, but its probes, /metrics and its OpenAPI document, refuses a request
that is not signed by Slack or Zendesk with 401 (enumerated from the app, so a new route is
checked too), and nothing else is served: no interactive docs on the internet-facing door.

Verification is the routers', not the routes': every webhook route runs a verifying dependency
before anything else because its router does, so a route added to a source router is verified
without saying so (checked here with a route that does not)."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from ingest.support import make_settings, slack_headers

from threadline_common.settings import KafkaSettings
from threadline_ingest.answers import JSON, SLACK_HEADERS, signed_body
from threadline_ingest.app import SOURCE_ROUTERS, create_app
from threadline_ingest.routes import health
from threadline_ingest.verification import VERIFIERS, source_router, verified_slack, verified_zendesk

pytestmark = pytest.mark.unit
OPEN = {"/healthz", "/readyz", "/metrics", "/openapi.json"}
NOWHERE = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # not started (no lifespan): no broker needed


def served(app) -> set[tuple[str, str]]:
    return {(m, r.path) for r in iter_route_contexts(app.routes) for m in (r.methods or ()) if m != "HEAD"}


def test_every_webhook_route_refuses_an_unsigned_request_and_nothing_else_is_served():
    app = create_app(make_settings(), NOWHERE)
    client = TestClient(app)
    routes = served(app)
    assert {path for _, path in routes} - OPEN == {
        "/slack/events",
        "/slack/interactions",
        "/slack/commands",
        "/zendesk/webhook",
    }
    for method, path in sorted(routes):
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


def test_every_webhook_route_runs_its_routers_verification_first():
    app = create_app(make_settings(), NOWHERE)
    verifier_of = {"/slack/": verified_slack, "/zendesk/": verified_zendesk}
    for route in iter_route_contexts(app.routes):
        dependencies = getattr(route, "dependencies", None)  # /openapi.json is a plain Starlette route
        first = dependencies[0].dependency if dependencies else None
        if route.path in OPEN:
            assert first not in VERIFIERS, route.path
            continue
        [wanted] = [v for prefix, v in verifier_of.items() if route.path.startswith(prefix)]
        assert first is wanted, route.path
    for router in SOURCE_ROUTERS:
        assert [d.dependency for d in router.dependencies] in ([verified_slack], [verified_zendesk])
        for route in router.routes:
            assert route.dependencies[0].dependency is router.dependencies[0].dependency, route.path
    assert not health.router.dependencies


def test_a_route_added_to_a_source_router_is_verified_without_asking():
    app = create_app(make_settings(), NOWHERE)
    router = source_router(verified_slack, prefix="/slack")

    @router.post("/new", openapi_extra=signed_body(JSON, "a new Slack request URL", SLACK_HEADERS))
    async def new(request: Request) -> dict[str, bool]:  # says nothing about signatures
        return {"reached": True}

    @router.post("/bodiless")
    async def bodiless() -> dict[str, bool]:  # declares no body: takes no request at all
        return {"reached": True}

    app.include_router(router)
    client = TestClient(app)
    body = b'{"type":"event_callback"}'
    assert client.post("/slack/new", content=body, headers={"content-type": JSON}).status_code == 401
    assert client.post("/slack/new", content=body, headers=slack_headers(body, secret="forged")).status_code == 401
    assert client.post("/slack/new", content=body, headers=slack_headers(body)).json() == {"reached": True}
    assert client.post("/slack/bodiless", content=body, headers=slack_headers(body)).status_code == 415
    with pytest.raises(ValueError, match="verifying"):
        source_router(lambda: None)
