"""HTTP: /healthz, /readyz, /metrics, and any report for any period on demand.

GET  /reports/daily?channel=C0SUPPORT&date=2026-11-20            the report as JSON
GET  /reports/weekly?channel=C0SUPPORT&date=2026-11-16&format=slack   its Block Kit
POST /reports/daily/post?channel=C0SUPPORT&date=2026-11-20       post it (once) to Slack
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from threadline_reporter import reports
from threadline_reporter.posting import UnknownChannel
from threadline_reporter.service import Service


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="threadline-reporter", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        alive = service.alive()
        return JSONResponse(
            {"alive": alive, "heartbeat_age": service.heartbeat.age()}, status_code=200 if alive else 503
        )

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ready = service.ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/reports/{kind}")
    async def report(
        kind: Literal["daily", "weekly"],
        channel: str,
        date: dt.date,
        format: Literal["json", "slack"] = Query("json"),
    ) -> dict[str, Any]:
        try:
            built = await run_in_threadpool(service.reporter.build, kind, channel, date)
        except UnknownChannel as exc:
            raise HTTPException(404, str(exc)) from exc
        if format == "slack":
            return {"text": reports.fallback_text(built), "blocks": reports.blocks(built)}
        return built.to_json()

    @app.post("/reports/{kind}/post")
    async def post(kind: Literal["daily", "weekly"], channel: str, date: dt.date) -> dict[str, Any]:
        try:
            posted = await run_in_threadpool(service.reporter.post, kind, channel, date)
        except UnknownChannel as exc:
            raise HTTPException(404, str(exc)) from exc
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from exc
        service.metrics.reports.labels(kind, posted.status).inc()
        return asdict(posted)

    return app
