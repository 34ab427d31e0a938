"""`python -m threadline_ingest` (or `threadline-ingest`): serve the webhooks with uvicorn.

One worker: this process serves. Several (THREADLINE_INGEST_WORKERS): uvicorn's supervisor
starts that many processes on the shared port, each building its own app (`worker_app`) with its
own producer, and restarts one that dies; metrics go through prometheus_client's multiprocess
files (metrics.py), so /metrics answers for all of them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from threadline_common.heap import settle_heap
from threadline_common.logs import configure_logging
from threadline_common.settings import load_kafka_settings, load_settings
from threadline_ingest.metrics import MULTIPROCESS_DIR
from threadline_ingest.settings import IngestSettings

if TYPE_CHECKING:
    from fastapi import FastAPI


def worker_app() -> FastAPI:
    """The app of one process: its settings, logging and producer."""
    # Imported here, not at the top: the supervisor of several workers never builds an app and
    # stays small without FastAPI, pydantic's models and librdkafka.
    from threadline_ingest.app import create_app

    settings = load_settings(IngestSettings)
    configure_logging("ingest", settings.log_level, settings.log_format)
    app = create_app(settings, load_kafka_settings())
    # With 32 requests in flight their few hundred live objects kept crossing CPython's 700, so
    # the collector ran every few requests (the ingest bench measured it as a large share of a
    # request's CPU); 10,000 is well above what the requests in flight hold.
    settle_heap(young=10_000)
    return app


def _metrics_dir(settings: IngestSettings) -> str:
    """A directory for this pod's metric files, emptied: a file of a previous run would add its
    counts to this one's (the pod's /tmp outlives a container restart)."""
    given = os.environ.get(MULTIPROCESS_DIR)
    path = Path(given or Path(tempfile.gettempdir()) / f"threadline-ingest-metrics-{settings.port}")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return str(path)


def main() -> None:
    settings = load_settings(IngestSettings)
    configure_logging("ingest", settings.log_level, settings.log_format)
    # uvicorn handles SIGTERM: it stops accepting, lets requests finish, then runs the lifespan's
    # shutdown (which flushes the producer), in every worker. Access logs are left out: metrics
    # count requests.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "lifespan": "on",
        "access_log": False,
        "log_config": None,
        "server_header": False,
        "timeout_graceful_shutdown": max(1, int(settings.flush_timeout_seconds)),
    }
    if settings.workers == 1:
        uvicorn.run(worker_app(), **options)
        return
    # Set before the workers start (they inherit it): prometheus_client reads it when imported.
    os.environ[MULTIPROCESS_DIR] = _metrics_dir(settings)
    uvicorn.run("threadline_ingest.__main__:worker_app", factory=True, workers=settings.workers, **options)


if __name__ == "__main__":
    main()
