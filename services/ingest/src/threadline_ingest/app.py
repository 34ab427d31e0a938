"""The HTTP door: Slack Events API, interactivity, slash commands and Zendesk webhooks.

Each route reads the body under a size limit, checks the content type and the signature on
the raw bytes, then parses, filters and publishes. 200 means Kafka has the record.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from threadline_common.contracts import Topics
from threadline_common.kafka import admin_config, producer_config
from threadline_common.settings import KafkaSettings
from threadline_ingest.publisher import Publisher, PublishError
from threadline_ingest.settings import IngestSettings
from threadline_ingest.verify import (
    BadRequest,
    SignatureError,
    as_object,
    body_id,
    parse_json,
    slack_channel_and_root,
    slack_key,
    slack_record,
    slack_teams,
    verify_legacy_token,
    verify_slack,
    verify_zendesk,
    zendesk_record,
)

log = logging.getLogger(__name__)

# Events Threadline must see whatever channel they name (or that name none).
ALWAYS_PUBLISHED = {"app_uninstalled", "tokens_revoked", "app_home_opened"}


class HTTPProblem(Exception):
    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.error, self.headers = status, error, headers or {}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "threadline_ingest_requests",
            "Requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.signature_failures = Counter(
            "threadline_ingest_signature_failures", "Rejected signatures", ["source"], registry=self.registry
        )
        self.produce_latency = Histogram(
            "threadline_ingest_produce_seconds",
            "Time from produce to broker acknowledgement",
            ["topic"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0),
            registry=self.registry,
        )
        self.in_flight = Gauge("threadline_ingest_in_flight", "Requests being handled", registry=self.registry)
        self.dropped = Counter(
            "threadline_ingest_dropped", "Events dropped at the edge", ["reason"], registry=self.registry
        )
        self.duplicates = Counter(
            "threadline_ingest_duplicates",
            "Redeliveries acknowledged without publishing",
            registry=self.registry,
        )


class RecentIds:
    """Event ids acknowledged lately: a Slack retry of one of them is answered, not republished.

    Only a shortcut: the router deduplicates for real, so this may forget (restart, eviction)."""

    def __init__(self, size: int) -> None:
        self.size, self._ids = size, OrderedDict[str, None]()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


def _raw_body_doc(content_type: str, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {content_type: {"schema": {"type": "string"}}},
        },
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "signed but malformed body"},
    401: {"description": "missing, stale or wrong signature"},
    413: {"description": "body over the size limit"},
    415: {"description": "wrong content type"},
    503: {"description": "Kafka did not acknowledge in time; retry later"},
}


def create_app(settings: IngestSettings, kafka: KafkaSettings, publisher: Publisher | None = None) -> FastAPI:
    topics = Topics(kafka.topic_prefix)
    metrics = Metrics()
    recent = RecentIds(settings.dedup_cache_size)
    state: dict[str, Any] = {"publisher": publisher}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state["publisher"] is None:
            state["publisher"] = Publisher(producer_config(kafka), admin_config(kafka))
        socket_mode = None
        if settings.slack_app_token is not None:
            from threadline_ingest.socket_mode import start_socket_mode

            socket_mode = await start_socket_mode(settings, handle_socket_request)
        yield
        # SIGTERM: uvicorn stops accepting, lets requests finish, then we flush what Kafka owes us.
        if socket_mode is not None:
            await socket_mode.close()
        state["publisher"].close()

    app = FastAPI(
        title="Threadline ingest",
        version="1.0.0",
        description="Verified Slack and Zendesk webhooks into Kafka. 200 means Kafka has the record.",
        lifespan=lifespan,
    )
    app.state.metrics = metrics

    @app.exception_handler(HTTPProblem)
    async def problem(request: Request, exc: HTTPProblem) -> Response:
        return JSONResponse({"ok": False, "error": exc.error}, status_code=exc.status, headers=exc.headers)

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        metrics.in_flight.inc()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            metrics.in_flight.dec()
            route = request.scope.get("route")
            metrics.requests.labels(getattr(route, "path", "unmatched"), str(status)).inc()

    async def read_body(request: Request, content_type: str) -> bytes:
        given = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if given != content_type:
            raise HTTPProblem(415, f"expected {content_type}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise HTTPProblem(413, "body too large")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise HTTPProblem(413, "body too large")
            chunks.append(chunk)
        return b"".join(chunks)

    def check_slack(request: Request, body: bytes) -> None:
        if settings.slack_signing_secret is None:
            raise HTTPProblem(401, "HTTP delivery is not configured")
        try:
            verify_slack(
                settings.slack_signing_secret.get_secret_value(),
                request.headers.get("x-slack-request-timestamp"),
                request.headers.get("x-slack-signature"),
                body,
                time.time(),
                settings.signature_max_age_seconds,
            )
        except SignatureError as exc:
            metrics.signature_failures.labels("slack").inc()
            log.warning("rejected a Slack request: %s", exc)
            raise HTTPProblem(401, "invalid signature") from exc

    async def publish(topic: str, key: str | None, record: dict[str, Any]) -> None:
        started = time.perf_counter()
        headers = [("event_id", str(record["event_id"]).encode()), ("kind", str(record["kind"]).encode())]
        if record.get("retry_num") is not None:
            headers.append(("retry_num", str(record["retry_num"]).encode()))
        try:
            await state["publisher"].publish(
                topic,
                key,
                json.dumps(record, separators=(",", ":")).encode(),
                headers,
                settings.ack_timeout_seconds,
            )
        except PublishError as exc:
            log.error("Kafka did not take a record for %s: %s", topic, exc)
            raise HTTPProblem(503, "not stored; retry", {"Retry-After": "1"}) from exc
        metrics.produce_latency.labels(topic).observe(time.perf_counter() - started)

    def accepted_team(teams: set[str]) -> bool:
        return not settings.slack_team_ids or bool(teams & set(settings.slack_team_ids))

    async def handle_event_callback(
        body: dict[str, Any], source: str, retry_num: int | None, reason: str | None
    ) -> None:
        """Filter and publish one Events API envelope (HTTP or Socket Mode)."""
        event = as_object(body.get("event"))
        event_type = str(event.get("type", ""))
        if settings.slack_app_ids and body.get("api_app_id") not in settings.slack_app_ids:
            metrics.dropped.labels("app").inc()
            return
        if not accepted_team(slack_teams(body)):
            metrics.dropped.labels("workspace").inc()
            return
        channel, root = slack_channel_and_root(body)
        if (
            event_type not in ALWAYS_PUBLISHED
            and settings.monitored_channels
            and channel not in settings.monitored_channels
        ):
            metrics.dropped.labels("channel").inc()
            return
        event_id = str(body.get("event_id") or body_id(json.dumps(body, sort_keys=True).encode()))
        if event_id in recent:
            metrics.duplicates.inc()
            return
        # Slack Connect: the envelope names the author's org; the thread belongs to ours.
        team_id = body.get("context_team_id") or body.get("team_id")
        key = slack_key(team_id, channel, root) or (str(team_id) if team_id else None)
        record = slack_record(
            kind="event_callback",
            body=body,
            event_id=event_id,
            team_id=team_id,
            conversation_key=slack_key(team_id, channel, root),
            now=time.time(),
            source=source,
            retry_num=retry_num,
            retry_reason=reason,
        )
        await publish(topics.slack_events, key, record)
        recent.add(event_id)

    async def handle_form(kind: str, body: dict[str, Any], raw: bytes, source: str) -> None:
        team = as_object(body.get("team"))
        team_id = body.get("team_id") or team.get("id")
        if not accepted_team({str(t) for t in (team_id, body.get("enterprise_id")) if t}):
            metrics.dropped.labels("workspace").inc()
            return
        record = slack_record(
            kind=kind,
            body=body,
            event_id=body_id(raw),
            team_id=team_id,
            conversation_key=None,
            now=time.time(),
            source=source,
        )
        await publish(topics.slack_events, str(team_id) if team_id else None, record)

    async def handle_socket_request(kind: str, body: dict[str, Any], retry_num: int | None, reason: str | None) -> None:
        if kind == "event_callback":
            await handle_event_callback(body, "socket_mode", retry_num, reason)
        else:
            await handle_form(kind, body, json.dumps(body, sort_keys=True).encode(), "socket_mode")

    @app.post(
        "/slack/events",
        openapi_extra=_raw_body_doc("application/json", "A signed Slack Events API request body"),
        responses={200: {"description": "stored (or a url_verification challenge)"}, **ERRORS},
    )
    async def slack_events(request: Request) -> Response:
        raw = await read_body(request, "application/json")
        check_slack(request, raw)
        try:
            body = parse_json(raw)
        except BadRequest as exc:
            raise HTTPProblem(400, str(exc)) from exc
        if body.get("type") == "url_verification":
            return JSONResponse({"challenge": body.get("challenge")})
        if body.get("type") != "event_callback":
            metrics.dropped.labels("type").inc()
            return Response(status_code=200)
        retry = request.headers.get("x-slack-retry-num")
        await handle_event_callback(
            body,
            "http",
            int(retry) if retry and retry.isdigit() else None,
            request.headers.get("x-slack-retry-reason"),
        )
        return Response(status_code=200)

    def parse_form(raw: bytes) -> dict[str, str]:
        try:
            return {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), strict_parsing=True).items()}
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPProblem(400, "body is not a valid form") from exc

    form_doc = _raw_body_doc("application/x-www-form-urlencoded", "A signed Slack form post")

    @app.post("/slack/interactions", openapi_extra=form_doc, responses={200: {"description": "stored"}, **ERRORS})
    async def slack_interactions(request: Request) -> Response:
        raw = await read_body(request, "application/x-www-form-urlencoded")
        check_slack(request, raw)
        form = parse_form(raw)
        try:
            payload = parse_json(form.get("payload", "").encode())
        except BadRequest as exc:
            raise HTTPProblem(400, "payload is not a JSON object") from exc
        await handle_form("interaction", payload, raw, "http")
        return Response(status_code=200)

    @app.post("/slack/commands", openapi_extra=form_doc, responses={200: {"description": "stored"}, **ERRORS})
    async def slack_commands(request: Request) -> Response:
        raw = await read_body(request, "application/x-www-form-urlencoded")
        check_slack(request, raw)
        form = parse_form(raw)
        if not form.get("command"):
            raise HTTPProblem(400, "not a slash command")
        await handle_form("slash_command", form, raw, "http")
        return JSONResponse({"response_type": "ephemeral", "text": "Got it."})

    @app.post(
        "/zendesk/webhook",
        openapi_extra=_raw_body_doc("application/json", "A signed Zendesk webhook, or a legacy body with a token"),
        responses={200: {"description": "stored"}, **ERRORS},
    )
    async def zendesk_webhook(request: Request) -> Response:
        raw = await read_body(request, "application/json")
        signature = request.headers.get("x-zendesk-webhook-signature")
        if signature is not None or settings.zendesk_legacy_token is None:
            if settings.zendesk_webhook_secret is None:
                raise HTTPProblem(401, "Zendesk webhooks are not configured")
            try:
                verify_zendesk(
                    settings.zendesk_webhook_secret.get_secret_value(),
                    request.headers.get("x-zendesk-webhook-signature-timestamp"),
                    signature,
                    raw,
                    time.time(),
                    settings.signature_max_age_seconds,
                )
            except SignatureError as exc:
                metrics.signature_failures.labels("zendesk").inc()
                raise HTTPProblem(401, "invalid signature") from exc
            kind = "event_webhook"
        else:
            kind = "legacy_trigger"
        try:
            body = parse_json(raw)
        except BadRequest as exc:
            if kind == "legacy_trigger":
                metrics.signature_failures.labels("zendesk").inc()
                raise HTTPProblem(401, "invalid token") from exc
            raise HTTPProblem(400, str(exc)) from exc
        if kind == "legacy_trigger":
            assert settings.zendesk_legacy_token is not None
            try:
                verify_legacy_token(settings.zendesk_legacy_token.get_secret_value(), body)
            except SignatureError as exc:
                metrics.signature_failures.labels("zendesk").inc()
                raise HTTPProblem(401, "invalid token") from exc
            body = {k: v for k, v in body.items() if k != "token"}  # the secret stays out of Kafka
        ticket, record = zendesk_record(
            kind=kind,
            body=body,
            raw=raw,
            webhook_id=request.headers.get("x-zendesk-webhook-id"),
            now=time.time(),
        )
        await publish(topics.zendesk_events, ticket, record)
        return Response(status_code=200)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"alive": True}

    @app.get("/readyz", responses={503: {"description": "Kafka unreachable"}})
    async def readyz() -> Response:
        ready = state["publisher"] is not None and state["publisher"].ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
