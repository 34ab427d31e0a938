"""zendesk-sync's Faust app: perform each command once, in order per conversation.

A command is decoded and checked against its contract; a record that is not a command goes to
the dead-letter topic. Transient failures (rate limits, 5xx, timeouts) are retried with backoff
while the stream waits, so later commands of the conversation keep their order. A command
that cannot succeed is dead-lettered and the router is told (a `failed` result), so the thread
hears about it: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, Counter

from threadline_common.contracts import Topics
from threadline_common.dlq import PoisonMessage, dead_letter
from threadline_common.faust_worker import WEB_OPTIONS, ExitOnCrash, fatal
from threadline_common.health import Heartbeat
from threadline_common.kafka import faust_broker_options
from threadline_common.logs import log_context
from threadline_common.metrics import add_metrics_page
from threadline_common.schemas import SchemaViolation, validate
from threadline_common.settings import KafkaSettings
from threadline_zendesk_sync import plan
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan import Outcome, PermanentError, TransientError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)
# The commands contract versions this worker performs.
COMMAND_VERSIONS = (1, 2)


def decode_command(value: bytes | None) -> dict[str, Any]:
    try:
        command = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise PoisonMessage(f"not JSON: {type(exc).__name__}") from exc
    version = command.get("schema_version") if isinstance(command, dict) else None
    if version not in COMMAND_VERSIONS:
        raise PoisonMessage(f"threadline.commands: schema_version {version!r} is not one of {COMMAND_VERSIONS}")
    try:
        validate("threadline.commands", version, command)
    except SchemaViolation as exc:
        raise PoisonMessage(str(exc)) from exc
    return dict(command)


async def with_retries(
    perform: Callable[[], Awaitable[Outcome]],
    attempts: int,
    max_backoff: float,
    pause: Callable[[TransientError, int, float], Awaitable[None]],
) -> Outcome:
    """Perform until it succeeds, fails for good, or has failed `attempts` times in a row."""
    attempt = 0
    while True:
        try:
            return await perform()
        except TransientError as exc:
            attempt += 1
            if attempt >= attempts:
                raise PermanentError(f"gave up after {attempt} attempts: {exc}") from exc
            await pause(exc, attempt, plan.backoff(attempt - 1, max_backoff, exc.retry_after))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "threadline_zendesk_sync_commands",
            "Commands by type and outcome (done, already_done, skipped, failed, poison)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "threadline_zendesk_sync_retries", "Transient failures retried", ["type"], registry=self.registry
        )


class SyncApp(ExitOnCrash, faust.App):
    """A crashed app ends the process (threadline_common.faust_worker)."""


def create_app(settings: ZendeskSyncSettings, kafka: KafkaSettings, effects: Effects | None = None) -> faust.App:
    topics = Topics(kafka.topic_prefix)
    heartbeat = Heartbeat()
    metrics = Metrics()
    app = SyncApp(
        settings.app_id,
        **faust_broker_options(kafka),
        store="memory://",  # no table: what was done is read back from Zendesk and Slack
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_allow_declare=False,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        web_host=settings.web_host,
        web_port=settings.web_port,
        broker_commit_every=20,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_seconds / 4),
        # A command may wait minutes on a rate limit: that is not a stuck consumer.
        broker_max_poll_interval=900.0,
        **WEB_OPTIONS,
    )
    commands = app.topic(topics.commands, key_type=bytes, value_type=bytes)
    results = app.topic(topics.results, key_type=bytes, value_type=bytes)
    dead_letters = app.topic(topics.dlq(Topics.COMMANDS), key_type=bytes, value_type=bytes)
    state: dict[str, Effects] = {}

    def get_effects() -> Effects:
        if "effects" not in state:
            state["effects"] = effects or Effects(settings)
        return state["effects"]

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget(app: faust.App, revoked: Any, **kwargs: Any) -> None:
        # Another worker may act on these conversations now: trust nothing remembered.
        if "effects" in state:
            state["effects"].reset_caches()

    async def send_dead_letter(event: faust.EventT, reason: str, error: BaseException) -> None:
        message = event.message
        headers = message.headers
        letter = dead_letter(
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
            reason=reason,
            error=error,
            original_headers=list(headers.items()) if isinstance(headers, dict) else list(headers or []),
            service="zendesk-sync",
        )
        fut = await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers)
        await fut
        log.warning("dead-lettered a command: %s", reason)

    async def pause(command: dict[str, Any], error: TransientError, attempt: int, seconds: float) -> None:
        metrics.retries.labels(command["type"]).inc()
        log.warning("%s; attempt %d, retrying in %.1fs", error, attempt, seconds)
        heartbeat.beat()
        await asyncio.sleep(seconds)

    async def perform_with_retries(command: dict[str, Any]) -> Outcome:
        return await with_retries(
            lambda: get_effects().perform(command),
            settings.max_attempts,
            settings.max_backoff_seconds,
            lambda error, attempt, seconds: pause(command, error, attempt, seconds),
        )

    async def perform_command(event: faust.EventT) -> list[dict[str, Any]]:
        try:
            command = decode_command(event.value)
        except PoisonMessage as exc:
            metrics.commands.labels("unknown", "poison").inc()
            await send_dead_letter(event, exc.reason, exc)
            return []
        kind = command["type"]
        with log_context(event_id=command["command_id"], conversation=command["conversation_id"]):
            try:
                outcome = await perform_with_retries(command)
            except PermanentError as exc:
                reason = str(exc)
            except Exception as exc:  # a bug must not stop every other conversation
                log.exception("%s failed unexpectedly", kind)
                reason = f"internal error ({type(exc).__name__})"
            else:
                metrics.commands.labels(kind, outcome.effect).inc()
                log.info("%s %s %s", kind, outcome.effect, outcome.detail)
                return outcome.results
            metrics.commands.labels(kind, "failed").inc()
            log.warning("%s failed: %s", kind, reason)
            await send_dead_letter(event, reason, PermanentError(reason))
            return [plan.result("failed", command, reason=reason)]

    @app.agent(commands, name="perform", concurrency=1)
    @fatal("agent perform")
    async def perform(stream: faust.StreamT) -> None:
        async for event in stream.events():
            heartbeat.beat()
            message = event.message
            with log_context(topic=message.topic, partition=message.partition, offset=message.offset):
                for record in await perform_command(event):
                    fut = await results.send(key=record["conversation_id"].encode(), value=json.dumps(record).encode())
                    await fut

    @app.timer(interval=5.0)
    @fatal("timer alive")
    async def alive() -> None:
        heartbeat.beat()

    @app.page("/healthz")
    class Healthz(View):
        async def get(self, request: Request) -> Response:
            ok = heartbeat.alive()
            return self.json({"alive": ok}, status=200 if ok else 503)

    @app.page("/readyz")
    class Readyz(View):
        async def get(self, request: Request) -> Response:
            ready = app.consumer is not None and not app.rebalancing
            return self.json({"ready": ready}, status=200 if ready else 503)

    add_metrics_page(app, metrics.registry)

    return app
