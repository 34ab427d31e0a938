"""The reporter's HTTP API answers only its bearer token: every route of the app, present or added
later, refuses an unauthenticated call with 401; only the probes and /metrics are open. The token
is a real one (required while the API is on, no placeholder) and the port is loopback by default."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from threadline_reporter.app import OPEN_PATHS, bearer_token_matches, create_app
from threadline_reporter.settings import ReporterSettings

from .conftest import API_TOKEN


def calls(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, path parameters filled in."""
    out = []
    for route in app.routes:
        if not isinstance(route, APIRoute | Route):
            continue
        path = re.sub(r"\{kind\}", "daily", route.path)
        assert "{" not in path, f"fill in the parameters of {route.path}"
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                out.append((method, path))
    return out


@pytest.mark.integration
def test_every_route_but_the_probes_and_metrics_refuses_an_unauthenticated_call(make_service):
    app = create_app(make_service())
    client = TestClient(app)
    served = calls(app)
    assert ("POST", "/reports/daily/post") in served and ("GET", "/openapi.json") in served
    params = {"channel": "C0SUPPORT", "date": "2026-11-20"}
    refused = 0
    for method, path in served:
        if path in OPEN_PATHS:
            assert client.request(method, path).status_code != 401, path
            continue
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-of-the-same-kind-0000"},
            {"Authorization": f"Basic {API_TOKEN}"},
            {"Authorization": f"Bearer {API_TOKEN}x"},
            {"Authorization": "Bearer"},
        ):
            answer = client.request(method, path, params=params, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        refused += 1
        answer = client.request(method, path, params=params, headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert answer.status_code not in (401, 500), (method, path, answer.text)
    assert refused >= 3  # the two /reports routes and the OpenAPI document
    # A path no route serves says nothing about it either.
    assert client.get("/reports/../admin").status_code == 401
    assert client.get("/docs").status_code == 401
    # Nor does a WebSocket (none is served today; the middleware sits in front of every scope).
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/reports/live"):
        pass
    assert closed.value.code == 1008


@pytest.mark.integration
def test_with_the_api_off_only_the_probes_and_metrics_answer(make_service):
    client = TestClient(create_app(make_service(api_enabled=False, api_token=None)))
    assert client.get("/metrics").status_code == 200
    assert client.get("/reports/daily", params={"channel": "C0SUPPORT", "date": "2026-11-20"}).status_code == 401


@pytest.mark.unit
def test_the_token_comparison():
    token = API_TOKEN.encode()
    assert bearer_token_matches(b"Bearer " + token, token)
    assert bearer_token_matches(b"bearer " + token, token)
    assert not bearer_token_matches(b"Bearer " + token[:-1], token)
    assert not bearer_token_matches(None, token)
    assert not bearer_token_matches(b"Bearer ", token)
    assert not bearer_token_matches(b"Bearer " + token, None)


@pytest.mark.unit
def test_the_api_needs_a_real_token_and_listens_on_loopback_by_default(monkeypatch):
    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    monkeypatch.delenv("THREADLINE_REPORTER_API_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="THREADLINE_REPORTER_API_TOKEN is required"):
        ReporterSettings()
    for placeholder in ("changeme", "<reporter-api-token>", "   ", "short-token"):
        monkeypatch.setenv("THREADLINE_REPORTER_API_TOKEN", placeholder)
        with pytest.raises(ValidationError, match="api_token"):
            ReporterSettings()
    monkeypatch.setenv("THREADLINE_REPORTER_API_TOKEN", API_TOKEN)
    settings = ReporterSettings()
    assert settings.web_host == "127.0.0.1"
    assert API_TOKEN not in repr(settings)  # a SecretStr: never in a log line
    monkeypatch.delenv("THREADLINE_REPORTER_API_TOKEN")
    monkeypatch.setenv("THREADLINE_REPORTER_API_ENABLED", "false")
    assert ReporterSettings().api_token is None
