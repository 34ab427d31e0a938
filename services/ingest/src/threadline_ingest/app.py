"""The HTTP door: Slack Events API, interactivity, slash commands and Zendesk webhooks.

Each route checks the content type, reads the body under a size limit, checks the signature on
the raw bytes, and only then parses, filters and publishes. 200 means Kafka has the record.
Answers: 400 malformed (but authenticated), 401 credentials, 413 too large, 415 content type,
503 Kafka did not take it in time (with Retry-After: Slack and Zendesk deliver it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, Literal, NoReturn

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from threadline_common.contracts import Topics
from threadline_common.health import Readiness
from threadline_common.kafka import producer_config
from threadline_common.settings import KafkaSettings
from threadline_ingest.bodies import BadRequest, parse_form, parse_json
from threadline_ingest.metrics import Metrics
from threadline_ingest.publisher import Publisher, PublishError
from threadline_ingest.service import Ingest
from threadline_ingest.settings import IngestSettings
from threadline_ingest.slack import retry_number
from threadline_ingest.verify import (
    SignatureError,
    verify_authorization,
    verify_legacy_token,
    verify_slack,
    verify_zendesk,
)
from threadline_ingest.zendesk import ZendeskKind, kind_of

log = logging.getLogger(__name__)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class Problem(Exception):
    """An answer other than 200, with a short reason that names no secret and no body content."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.headers = status, error, headers or {}


# --- documented bodies ---------------------------------------------------------------------


class ErrorBody(BaseModel):
    ok: Literal[False] = False
    error: str


class Ack(BaseModel):
    ok: Literal[True] = True


class Challenge(BaseModel):
    challenge: str


class CommandAck(BaseModel):
    response_type: Literal["ephemeral"] = "ephemeral"
    text: str


class Alive(BaseModel):
    alive: bool


class Ready(BaseModel):
    ready: bool
    checks: dict[str, bool]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Authenticated but malformed (not JSON, not a form, fields missing)"),
    401: _error("Missing, stale or wrong signature or credentials"),
    413: _error("Body over the size limit"),
    415: _error("Wrong Content-Type"),
    503: {
        **_error("Kafka did not acknowledge in time (or ingest is starting or stopping); deliver again"),
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    },
}


def _header(name: str, description: str, required: bool = False, type_: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description, "schema": {"type": type_}}


SLACK_HEADERS = [
    _header("X-Slack-Request-Timestamp", "Unix time of the request; at most 5 minutes old", required=True),
    _header("X-Slack-Signature", "v0= + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` (signing secret)", True),
]


def _raw_body(media_type: str, description: str, headers: list[dict[str, Any]]) -> dict[str, Any]:
    """The request body is documented as raw bytes: it is verified before it is parsed."""
    return {
        "parameters": headers,
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
    }


# --- ASGI plumbing ---------------------------------------------------------------------------


class Instrumented:
    """Counts requests by route and status, and turns any unexpected error into a 503 (Slack and
    Zendesk retry it) instead of a 500. Pure ASGI: no per-request task as BaseHTTPMiddleware has."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, counted)
        except Exception:
            log.exception("unexpected error on %s", scope.get("path"))
            if status:
                raise  # the answer has begun: nothing else can be said
            status = 503
            response = JSONResponse(
                ErrorBody(error="internal error; deliver again").model_dump(), 503, {"Retry-After": "1"}
            )
            await response(scope, receive, send)
        finally:
            self.metrics.in_flight.dec()
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()


# --- the app -----------------------------------------------------------------------------------


def create_app(settings: IngestSettings, kafka_settings: KafkaSettings) -> FastAPI:
    topics = Topics(kafka_settings.topic_prefix)
    metrics = Metrics()
    ingest = Ingest(settings, topics, metrics)
    readiness = Readiness()

    async def kafka_ready() -> bool:
        publisher = ingest.publisher
        wanted = [topics.slack_events, topics.zendesk_events]
        return publisher is not None and await asyncio.to_thread(publisher.ready, wanted)

    readiness.add("kafka", kafka_ready)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ingest.publisher = Publisher(producer_config(kafka_settings))
        socket_mode = None
        if settings.socket_mode:
            from threadline_ingest.socket_mode import SocketModeDoor

            socket_mode = SocketModeDoor(settings, ingest)
            socket_mode.start()
            readiness.add("slack_socket_mode", socket_mode.connected)
        try:
            yield
        finally:
            # SIGTERM: uvicorn has stopped accepting and let requests finish; stop taking Socket
            # Mode envelopes, then give Kafka what it still owes us.
            if socket_mode is not None:
                await socket_mode.close()
            publisher, ingest.publisher = ingest.publisher, None
            await asyncio.to_thread(publisher.close, settings.flush_timeout_seconds)

    app = FastAPI(
        title="Threadline ingest",
        version="1.0.0",
        description=(
            "Verified Slack and Zendesk webhooks into Kafka. A 200 means Kafka has acknowledged the "
            "record; a 503 means it has not (deliver again). Bodies are verified as raw bytes before "
            "anything parses them."
        ),
        lifespan=lifespan,
        # No interactive docs on the internet-facing door (they load scripts from a CDN); the
        # document itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(Instrumented, metrics=metrics)
    app.state.ingest = ingest
    app.state.metrics = metrics

    @app.exception_handler(Problem)
    async def problem(_: Request, exc: Problem) -> Response:
        return JSONResponse(ErrorBody(error=exc.error).model_dump(), exc.status, exc.headers)

    async def read_body(request: Request, media_type: str) -> bytes:
        given = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if given != media_type:
            raise Problem(415, f"expected {media_type}")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise Problem(413, "body too large")
        chunks, size = [], 0
        async for chunk in request.stream():  # the declared length may lie, or be absent (chunked)
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise Problem(413, "body too large")
            chunks.append(chunk)
        return b"".join(chunks)

    def slack_signature_error(request: Request, raw: bytes) -> SignatureError | None:
        if settings.slack_signing_secret is None:
            return SignatureError("Slack HTTP delivery is not configured (Socket Mode only)")
        try:
            verify_slack(
                settings.slack_signing_secret.get_secret_value(),
                request.headers.get("x-slack-request-timestamp"),
                request.headers.get("x-slack-signature"),
                raw,
                time.time(),
                settings.signature_max_age_seconds,
            )
        except SignatureError as exc:
            return exc
        return None

    def refuse_slack(request: Request, error: SignatureError) -> NoReturn:
        metrics.signature_failures.labels("slack").inc()
        log.warning("refused a Slack request on %s: %s", request.url.path, error)
        raise Problem(401, "invalid signature") from error

    def check_slack(request: Request, raw: bytes) -> None:
        error = slack_signature_error(request, raw)
        if error is not None:
            refuse_slack(request, error)

    async def stored(call: Awaitable[str]) -> str:
        """Run one publish; BadRequest is 400 and a missing acknowledgement 503."""
        try:
            outcome = await call
        except BadRequest as exc:
            raise Problem(400, str(exc)) from exc
        except PublishError as exc:
            raise Problem(503, "not stored; deliver again", {"Retry-After": "1"}) from exc
        return outcome

    @app.post(
        "/slack/events",
        summary="Slack Events API request URL",
        openapi_extra=_raw_body(
            JSON,
            "A Slack Events API request (url_verification or event_callback), signed",
            [
                *SLACK_HEADERS,
                _header("X-Slack-Retry-Num", "Set on Slack's retries: 1, 2, 3", type_="integer"),
                _header("X-Slack-Retry-Reason", "Why Slack retries, e.g. http_timeout"),
            ],
        ),
        response_model=Challenge | Ack,
        responses={200: {"description": "url_verification: the challenge; otherwise stored (or dropped)"}, **ERRORS},
    )
    async def slack_events(request: Request) -> Response:
        raw = await read_body(request, JSON)
        check_slack(request, raw)
        try:
            body = parse_json(raw)
        except BadRequest as exc:
            raise Problem(400, str(exc)) from exc
        envelope_type = body.get("type")
        if envelope_type == "url_verification":
            challenge = body.get("challenge")
            if not isinstance(challenge, str):
                raise Problem(400, "url_verification without a challenge")
            return JSONResponse(Challenge(challenge=challenge).model_dump())
        if envelope_type != "event_callback":
            # Nothing to store. app_rate_limited means Slack stops sending events for a while.
            metrics.dropped.labels("type").inc()
            if envelope_type == "app_rate_limited":
                log.warning("Slack rate-limits this app's events (app_rate_limited)")
            return JSONResponse(Ack().model_dump())
        await stored(
            ingest.slack(
                "event_callback",
                body,
                raw,
                "http",
                retry_number(request.headers.get("x-slack-retry-num")),
                request.headers.get("x-slack-retry-reason"),
            )
        )
        return JSONResponse(Ack().model_dump())

    @app.post(
        "/slack/interactions",
        summary="Slack interactivity request URL",
        openapi_extra=_raw_body(FORM, "`payload=<JSON>` as Slack posts it, signed", SLACK_HEADERS),
        response_class=Response,
        responses={200: {"description": "Stored (empty body: Slack needs nothing more)"}, **ERRORS},
    )
    async def slack_interactions(request: Request) -> Response:
        raw = await read_body(request, FORM)
        check_slack(request, raw)
        try:
            payload = parse_json(parse_form(raw).get("payload", "").encode())
        except BadRequest as exc:
            raise Problem(400, "payload is not a JSON object") from exc
        await stored(ingest.slack("interaction", payload, raw, "http"))
        return Response(status_code=200)

    @app.post(
        "/slack/commands",
        summary="Slack slash command request URL",
        openapi_extra=_raw_body(FORM, "A slash command's form fields as Slack posts them, signed", SLACK_HEADERS),
        response_model=CommandAck,
        responses={200: {"description": "Stored; an ephemeral note for the person who typed it"}, **ERRORS},
    )
    async def slack_commands(request: Request) -> Response:
        raw = await read_body(request, FORM)
        error = slack_signature_error(request, raw)
        if error is not None:
            # Slack checks a command URL's certificate with an unsigned `ssl_check=1` post:
            # answer it, store nothing.
            with contextlib.suppress(BadRequest):
                if parse_form(raw).get("ssl_check") == "1":
                    return JSONResponse(CommandAck(text="ok").model_dump())
            refuse_slack(request, error)
        form = parse_form_or_400(raw)
        outcome = await stored(ingest.slack("slash_command", form, raw, "http"))
        text = "Got it." if not outcome.startswith("dropped") else "Threadline does not serve this workspace."
        return JSONResponse(CommandAck(text=text).model_dump())

    def parse_form_or_400(raw: bytes) -> dict[str, str]:
        try:
            return parse_form(raw)
        except BadRequest as exc:
            raise Problem(400, str(exc)) from exc

    def authenticate_zendesk(request: Request, raw: bytes) -> tuple[ZendeskKind, dict[str, Any]]:
        """Signature (every Zendesk webhook has one), else an Authorization header (a target or
        webhook with basic/bearer auth), else the legacy token inside the body: the first that is
        configured decides, and a credential presented must be right."""
        signature = request.headers.get("x-zendesk-webhook-signature")
        authorization = request.headers.get("authorization")
        basic = None
        if settings.zendesk_basic_auth_username and settings.zendesk_basic_auth_password:
            basic = (settings.zendesk_basic_auth_username, settings.zendesk_basic_auth_password.get_secret_value())
        bearer = settings.zendesk_bearer_token.get_secret_value() if settings.zendesk_bearer_token else None
        try:
            if signature is not None and settings.zendesk_webhook_secret is not None:
                verify_zendesk(
                    settings.zendesk_webhook_secret.get_secret_value(),
                    request.headers.get("x-zendesk-webhook-signature-timestamp"),
                    signature,
                    raw,
                    time.time(),
                    settings.signature_max_age_seconds,
                )
                body = parse_json_or_400(raw)
                return kind_of(body), body
            if authorization is not None and (basic or bearer):
                verify_authorization(authorization, basic=basic, bearer=bearer)
                return "legacy_trigger", parse_json_or_400(raw)
            if settings.zendesk_legacy_token is None:
                raise SignatureError("no Zendesk credentials")
            try:
                body = parse_json(raw)
            except BadRequest as exc:
                # The token is inside the body: unreadable means unauthenticated.
                raise SignatureError("legacy body is not JSON, so it carries no token") from exc
            verify_legacy_token(settings.zendesk_legacy_token.get_secret_value(), body)
            return "legacy_trigger", body
        except SignatureError as exc:
            metrics.signature_failures.labels("zendesk").inc()
            log.warning("refused a Zendesk request: %s", exc)
            raise Problem(401, "invalid credentials") from exc

    def parse_json_or_400(raw: bytes) -> dict[str, Any]:
        try:
            return parse_json(raw)
        except BadRequest as exc:
            raise Problem(400, str(exc)) from exc

    @app.post(
        "/zendesk/webhook",
        summary="Zendesk webhook endpoint (event webhooks, trigger and automation webhooks)",
        openapi_extra=_raw_body(
            JSON,
            "A Zendesk webhook body. Authenticated by its signature headers, or an Authorization "
            "header (basic/bearer, when configured), or a legacy `token` field in the JSON.",
            [
                _header("X-Zendesk-Webhook-Signature", "base64 HMAC-SHA256 of timestamp + raw body"),
                _header("X-Zendesk-Webhook-Signature-Timestamp", "RFC 3339; at most 5 minutes old"),
                _header("X-Zendesk-Webhook-Id", "The webhook's id"),
                _header("X-Zendesk-Webhook-Invocation-Id", "One trigger firing; the same on Zendesk's retries of it"),
                _header("Authorization", "Basic or Bearer, when the webhook is set up with them"),
            ],
        ),
        response_model=Ack,
        responses={200: {"description": "Stored"}, **ERRORS},
    )
    async def zendesk_webhook(request: Request) -> Response:
        raw = await read_body(request, JSON)
        kind, body = authenticate_zendesk(request, raw)
        await stored(
            ingest.zendesk(
                kind,
                body,
                raw,
                request.headers.get("x-zendesk-webhook-id"),
                request.headers.get("x-zendesk-webhook-invocation-id"),
            )
        )
        return JSONResponse(Ack().model_dump())

    @app.get(
        "/healthz",
        summary="Liveness: the delivery thread is serving Kafka's callbacks",
        response_model=Alive,
        responses={503: {"model": Alive, "description": "Stuck: restart"}},
    )
    async def healthz() -> Response:
        publisher = ingest.publisher
        alive = publisher is None or publisher.heartbeat.alive()
        return JSONResponse(Alive(alive=alive).model_dump(), 200 if alive else 503)

    @app.get(
        "/readyz",
        summary="Readiness: Kafka answers and has the topics (and Socket Mode is connected, if used)",
        response_model=Ready,
        responses={503: {"model": Ready, "description": "Not ready"}},
    )
    async def readyz() -> Response:
        ready, checks = await readiness.report()
        return JSONResponse(Ready(ready=ready, checks=checks).model_dump(), 200 if ready else 503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
