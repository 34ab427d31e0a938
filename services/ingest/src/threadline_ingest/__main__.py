"""`python -m threadline_ingest`: serve the webhooks with uvicorn."""

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
    # Access logs would carry nothing useful that metrics do not; bodies are never logged.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
