"""HTTP: /healthz, /readyz, /metrics, and any report for any period on demand.

GET  /reports/daily?channel=C0SUPPORT&date=2026-11-20            the report as JSON
GET  /reports/weekly?channel=C0SUPPORT&date=2026-11-16&format=slack   its Block Kit
POST /reports/daily/post?channel=C0SUPPORT&date=2026-11-20       post it (once) to Slack
GET  /similar?team=T0&channel=C0SUPPORT&text=...&exclude=<conversation id>&limit=3
                                                                  solved conversations like a question

Everything but the probes and /metrics (and that includes /openapi.json and any unknown path)
answers only `Authorization: Bearer <THREADLINE_REPORTER_API_TOKEN>`: `BearerAuth` wraps the
whole ASGI app, so no route, present or added later, can be reached without it. No route here is
called by Slack (the reporter only calls Slack), so none takes a Slack signature.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import logging
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, Literal

from elasticsearch import ApiError, TransportError
from fastapi import FastAPI, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from threadline_reporter import reports, similar
from threadline_reporter.posting import UnknownChannel
from threadline_reporter.service import Service

log = logging.getLogger(__name__)

# What a kubelet probe and a Prometheus scrape call: answered to anyone who reaches the port.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Periods a report can be about; beyond them date arithmetic overflows (year 9999) and nothing is indexed.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)
# Longer questions are cut by the caller: the first words say what it is about (and a URL stays short).
MAX_SIMILAR_TEXT = 2000
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No `Authorization: Bearer <token>`, or not the reporter's token"}
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "Elasticsearch is not ready or not reachable; try again"}
}


def bearer_token_matches(header: bytes | None, token: bytes | None) -> bool:
    """Whether an Authorization header value carries `token` (compared in constant time)."""
    if token is None or header is None:
        return False
    scheme, _, given = header.partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(given.strip(), token)


class BearerAuth:
    """Pure ASGI middleware (bolt-python's verification-as-middleware pattern): a request to any
    path but OPEN_PATHS without the right bearer token is answered 401 before any route runs."""

    def __init__(self, app: ASGIApp, token: bytes | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or (scope["type"] == "http" and scope["path"] in OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization")
        if not bearer_token_matches(header, self.token):
            log.warning("refused an unauthenticated %s %s", scope.get("method", scope["type"]), scope["path"])
            if scope["type"] == "websocket":  # none is served; one added later is covered too
                await send({"type": "websocket.close", "code": 1008})
                return
            response = JSONResponse(
                {"detail": "authentication required: Authorization: Bearer <token>"},
                401,
                {"WWW-Authenticate": 'Bearer realm="threadline-reporter"'},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def in_range(date: dt.date) -> None:
    if not FIRST_DAY <= date <= LAST_DAY:
        raise HTTPException(422, f"date must be between {FIRST_DAY} and {LAST_DAY}")


def ready_or_503(service: Service) -> None:
    if not service.indices_ready.is_set():
        raise HTTPException(503, "starting: the indices are not there yet", {"Retry-After": "5"})


@contextlib.contextmanager
def report_errors(doing: str) -> Iterator[None]:
    """What a report request answers when the report cannot be built or posted."""
    try:
        yield
    except UnknownChannel as exc:
        raise HTTPException(404, str(exc)) from exc
    except (ApiError, TransportError) as exc:
        log.warning("a report could not be %s: %s", doing, exc)
        raise HTTPException(503, "Elasticsearch did not answer; try again", {"Retry-After": "5"}) from exc


def create_app(service: Service) -> FastAPI:
    settings = service.settings
    app = FastAPI(title="threadline-reporter", version="1.0.0", docs_url=None, redoc_url=None)
    token = settings.api_token.get_secret_value().strip().encode() if settings.api_token else None
    app.add_middleware(BearerAuth, token=token if settings.api_enabled else None)

    @app.get("/healthz", responses={503: {"description": "Stuck: restart"}})
    def healthz() -> JSONResponse:
        alive = service.alive()
        return JSONResponse(
            {"alive": alive, "heartbeat_age": service.heartbeat.age()}, status_code=200 if alive else 503
        )

    @app.get("/readyz", responses={503: {"description": "Not ready"}})
    def readyz() -> JSONResponse:
        ready = service.ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    )
    def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if not settings.api_enabled:
        return app

    @app.get(
        "/reports/{kind}",
        responses={**UNAUTHORIZED, 404: {"description": "Not a monitored channel"}, **UNAVAILABLE},
    )
    async def report(
        kind: Literal["daily", "weekly"],
        channel: str,
        date: dt.date,
        format: Literal["json", "slack"] = Query("json"),
    ) -> dict[str, Any]:
        in_range(date)
        ready_or_503(service)
        with report_errors("built"):
            built = await run_in_threadpool(service.reporter.build, kind, channel, date)
        if format == "slack":
            return {"text": reports.fallback_text(built), "blocks": reports.blocks(built)}
        return built.to_json()

    @app.post(
        "/reports/{kind}/post",
        responses={
            **UNAUTHORIZED,
            404: {"description": "Not a monitored channel"},
            409: {"description": "No Slack token, no report channel, or another post is in progress"},
            **UNAVAILABLE,
        },
    )
    async def post(kind: Literal["daily", "weekly"], channel: str, date: dt.date) -> dict[str, Any]:
        in_range(date)
        ready_or_503(service)
        try:
            with report_errors("posted"):
                posted = await run_in_threadpool(service.reporter.post, kind, channel, date)
        except RuntimeError as exc:  # no Slack token, no report channel, a post in progress
            raise HTTPException(409, str(exc)) from exc
        service.metrics.reports.labels(kind, posted.status).inc()
        return asdict(posted)

    @app.get(
        "/similar",
        responses={
            **UNAUTHORIZED,
            409: {"description": "Similar search is off: the reporter keeps no message text"},
            **UNAVAILABLE,
        },
    )
    async def similar_solved(
        team: str = Query(min_length=1, max_length=64),
        channel: str = Query(min_length=1, max_length=64),
        text: str = Query(min_length=1, max_length=MAX_SIMILAR_TEXT),
        exclude: str | None = Query(None, max_length=256, description="the asking conversation's id"),
        limit: int = Query(3, ge=1, le=10),
    ) -> dict[str, Any]:
        """Solved or closed conversations of the team's channel that look like `text`, best first."""
        if settings.text_mode == "drop":
            raise HTTPException(
                409,
                "similar search is off: the reporter keeps no message text (THREADLINE_REPORTER_TEXT_MODE=drop)",
            )
        ready_or_503(service)
        body = similar.similar_query(team, channel, text, exclude, limit)
        try:
            found = await run_in_threadpool(service.es.search, index=service.names.conversations, body=body)
        except (ApiError, TransportError) as exc:
            log.warning("a similar search failed: %s", exc)
            raise HTTPException(503, "Elasticsearch did not answer; try again", {"Retry-After": "5"}) from exc
        return {"similar": [asdict(s) for s in similar.from_hits(found["hits"]["hits"])]}

    return app
