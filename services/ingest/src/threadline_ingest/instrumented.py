"""Counts every HTTP request by route and status, and makes sure none is ever answered 500.

An unexpected error becomes a 503 with Retry-After, which Slack and Zendesk deliver again.
Pure ASGI: no per-request task as Starlette's BaseHTTPMiddleware has.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from threadline_ingest.answers import ErrorBody
from threadline_ingest.metrics import Metrics

log = logging.getLogger(__name__)


class Instrumented:
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

        self.metrics.request_started()
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
            self.metrics.request_answered(getattr(scope.get("route"), "path", "unmatched"), status)
