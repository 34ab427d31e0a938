"""What the routes share, kept on the app (app.state), not in modules: every app is its own."""

from __future__ import annotations

from fastapi import Request

from threadline_common.health import Readiness
from threadline_ingest.metrics import Metrics
from threadline_ingest.service import Ingest
from threadline_ingest.settings import IngestSettings


def settings_of(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


def ingest_of(request: Request) -> Ingest:
    ingest: Ingest = request.app.state.ingest
    return ingest


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def readiness_of(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness
