"""`python -m threadline_ingest` (or `threadline-ingest`): serve the webhooks with uvicorn."""

from __future__ import annotations

import uvicorn

from threadline_common.logs import configure_logging
from threadline_common.settings import load_kafka_settings, load_settings
from threadline_ingest.app import create_app
from threadline_ingest.settings import IngestSettings


def main() -> None:
    settings = load_settings(IngestSettings)
    configure_logging("ingest", settings.log_level, settings.log_format)
    app = create_app(settings, load_kafka_settings())
    # uvicorn handles SIGTERM: it stops accepting, lets requests finish, then runs the lifespan's
    # shutdown (which flushes the producer). Access logs are left out: metrics count requests.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=max(1, int(settings.flush_timeout_seconds)),
    )


if __name__ == "__main__":
    main()
