"""Liveness, readiness and metrics: for Kubernetes and Prometheus, so on a router without
verification (they say nothing a webhook sender could use, and take no body)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from threadline_ingest.answers import Alive, Ready
from threadline_ingest.state import ingest_of, metrics_of, readiness_of

router = APIRouter()


@router.get(
    "/healthz",
    summary="Liveness: the delivery thread is serving Kafka's callbacks",
    response_model=Alive,
    responses={503: {"model": Alive, "description": "Stuck: restart"}},
)
async def healthz(request: Request) -> Response:
    publisher = ingest_of(request).publisher
    alive = publisher is None or publisher.heartbeat.alive()
    return JSONResponse(Alive(alive=alive).model_dump(), 200 if alive else 503)


@router.get(
    "/readyz",
    summary="Readiness: Kafka answers and has the topics (and Socket Mode is connected, if used)",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "Not ready"}},
)
async def readyz(request: Request) -> Response:
    ready, checks = await readiness_of(request).report()
    return JSONResponse(Ready(ready=ready, checks=checks).model_dump(), 200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def prometheus(request: Request) -> Response:
    return Response(metrics_of(request).exposition(), media_type=CONTENT_TYPE_LATEST)
