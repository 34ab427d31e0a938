"""The HTTP door: the FastAPI app, made of one router per source and one for the probes.

Each webhook route checks the content type, reads the body under a size limit, checks the
signature on the raw bytes (all three in its router's verifying dependency, verification.py),
and only then parses, filters and publishes. 200 means Kafka has the record; every other answer
is in answers.py. The app holds what its routes share (app.state), so tests can run several.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from threadline_common.contracts import Topics
from threadline_common.health import Readiness
from threadline_common.installations import InstallationCipher, KafkaInstallationStore
from threadline_common.kafka import producer_config
from threadline_common.settings import KafkaSettings
from threadline_ingest.answers import Answered, Problem, early_answer, problem_answer
from threadline_ingest.instrumented import Instrumented
from threadline_ingest.metrics import Metrics
from threadline_ingest.publisher import Publisher
from threadline_ingest.routes import health, slack_events, slack_interactive, slack_oauth, zendesk_webhook
from threadline_ingest.service import Ingest
from threadline_ingest.settings import IngestSettings
from threadline_ingest.verification import DirectRoutes, direct_routes

# librdkafka's own default linger, over the common 2 ms: a request waits for its record's ack
# anyway, and with dozens in flight 5 ms batches mean fewer produce requests for the broker (the
# ingest bench: its CPU a record ~0.8-1.2 ms at 2 ms, 0.2-0.5 ms at 5 ms). acks=all stays.
# Uncompressed, unlike the other services' records: a batch here holds a few small records of a
# partition, lz4 saves little of them, and the broker decompresses every compressed batch to
# check it (the bench: its CPU a record 0.12 ms with lz4, 0.09 ms without).
PRODUCER = {"linger.ms": 5, "compression.type": "none"}

# The routers of the webhook sources: each a verification.source_router.
SOURCE_ROUTERS = (slack_events.router, slack_interactive.router, zendesk_webhook.router)


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
        ingest.publisher = Publisher(producer_config(kafka_settings, **PRODUCER))
        store = None
        if settings.oauth:
            store = _installations(settings, kafka_settings, topics).start()
            ingest.oauth = _oauth_door(settings, store)
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
            if store is not None:
                await asyncio.to_thread(store.close)
            publisher, ingest.publisher = ingest.publisher, None
            await asyncio.to_thread(publisher.close, settings.flush_timeout_seconds)
            metrics.process_ended()

    app = IngestApp(
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
        # FastAPI's native OpenTelemetry bridge looks up the global tracer, meter and logger
        # providers on every request (2-3% of a request's CPU in the ingest bench's profile);
        # ingest reports through Prometheus (/metrics) and configures no OpenTelemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_exception_handler(Problem, problem_answer)
    app.add_exception_handler(Answered, early_answer)
    app.state.settings = settings
    app.state.ingest = ingest
    app.state.metrics = metrics
    app.state.readiness = readiness
    for router in SOURCE_ROUTERS:
        app.include_router(router)
    if settings.oauth:
        app.include_router(slack_oauth.router)
    app.include_router(health.router)
    # Counted alike: what FastAPI answers (Instrumented in its middleware) and what a direct route
    # answers (Instrumented around it, ahead of FastAPI).
    app.add_middleware(Instrumented, metrics=metrics)
    direct: dict[tuple[str, str], ASGIApp] = {
        key: Instrumented(route, metrics) for key, route in direct_routes(app.routes).items()
    }
    app.direct = DirectRoutes(super(IngestApp, app).__call__, direct)
    return app


class IngestApp(FastAPI):
    """FastAPI, with the webhook routes' direct way in (verification.DirectRoutes) ahead of
    FastAPI's own layers: a webhook request goes from uvicorn to its counting, its verifying
    function and its endpoint without the server-error, telemetry and body-limit middleware
    FastAPI puts around every request (Instrumented answers an unexpected error with a 503
    itself; telemetry is off; ingest's body limit is read_body's). Any other request, and the
    lifespan, go through FastAPI as before."""

    direct: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct is not None and scope["type"] == "http":
            scope["app"] = self  # as Starlette sets it: the routes read the app's state through it
            await self.direct(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _installations(settings: IngestSettings, kafka_settings: KafkaSettings, topics: Topics) -> KafkaInstallationStore:
    assert settings.slack_installations_key is not None
    cipher = InstallationCipher(settings.slack_installations_key.get_secret_value())
    return KafkaInstallationStore(kafka_settings, topics.slack_installations, cipher, client_id="threadline-ingest")


def _oauth_door(settings: IngestSettings, store: KafkaInstallationStore) -> slack_oauth.OAuthDoor:
    assert settings.slack_client_id and settings.slack_client_secret and settings.slack_oauth_redirect_uri
    return slack_oauth.OAuthDoor(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        redirect_uri=settings.slack_oauth_redirect_uri,
        scopes=settings.slack_oauth_scopes,
        user_scopes=settings.slack_oauth_user_scopes,
        authorize_url=settings.slack_authorize_url,
        state_seconds=settings.oauth_state_seconds,
        store=store,
    )
