"""zendesk-sync's Faust app: perform each command once, in order per conversation.

A command is decoded and checked against its contract; a record that is not a command goes to
the dead-letter topic. Transient failures (rate limits, 5xx, timeouts) are retried with backoff
while the partition waits, so later commands of the conversation keep their order. A command
that cannot succeed is dead-lettered and the router is told (a `failed` result), so the thread
hears about it: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import faust
from faust.web import Request, Response, View

from threadline_common.contracts import Topics
from threadline_common.dlq import PoisonMessage, dead_letter
from threadline_common.health import Heartbeat
from threadline_common.kafka import faust_broker_options
from threadline_common.logs import log_context
from threadline_common.schemas import SchemaViolation, validate
from threadline_common.settings import KafkaSettings
from threadline_zendesk_sync import plan
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan import PermanentError, TransientError
from threadline_zendesk_sync.settings import ZendeskSyncSettings

log = logging.getLogger(__name__)


def decode_command(value: bytes | None) -> dict[str, Any]:
    try:
        command = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc
    try:
        validate("threadline.commands", 1, command)
    except SchemaViolation as exc:
        raise PoisonMessage(str(exc)) from exc
    return dict(command)


def create_app(settings: ZendeskSyncSettings, kafka: KafkaSettings, effects: Effects | None = None) -> faust.App:
    topics = Topics(kafka.topic_prefix)
    heartbeat = Heartbeat()
    app = faust.App(
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
    )
    commands = app.topic(topics.commands, key_type=bytes, value_type=bytes)
    results = app.topic(topics.results, key_type=bytes, value_type=bytes)
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
        fut = await app.topic(letter.topic, key_type=bytes, value_type=bytes).send(
            key=letter.key, value=letter.value, headers=letter.headers
        )
        await fut
        log.warning("dead-lettered a command: %s", reason)

    async def perform_with_retries(command: dict[str, Any]) -> list[dict[str, Any]]:
        for attempt in range(settings.max_attempts):
            try:
                return await get_effects().perform(command)
            except TransientError as exc:
                if attempt + 1 == settings.max_attempts:
                    raise PermanentError(f"gave up after {settings.max_attempts} attempts: {exc}") from exc
                pause = plan.backoff(attempt, settings.max_backoff_seconds, exc.retry_after)
                log.warning("%s; retrying in %.1fs", exc, pause)
                heartbeat.beat()
                await asyncio.sleep(pause)
        return []

    @app.agent(commands, name="perform")
    async def perform(stream: faust.StreamT) -> None:
        async for event in stream.events():
            heartbeat.beat()
            message = event.message
            with log_context(topic=message.topic, partition=message.partition, offset=message.offset):
                try:
                    command = decode_command(event.value)
                except PoisonMessage as exc:
                    await send_dead_letter(event, exc.reason, exc)
                    continue
                with log_context(event_id=command["command_id"], conversation=command["conversation_id"]):
                    try:
                        outcomes = await perform_with_retries(command)
                    except PermanentError as exc:
                        await send_dead_letter(event, str(exc), exc)
                        outcomes = [plan.result("failed", command, reason=str(exc))]
                    except Exception as exc:  # a bug must not stop every other conversation
                        log.exception("command failed unexpectedly")
                        await send_dead_letter(event, f"unexpected {type(exc).__name__}: {exc}", exc)
                        outcomes = [plan.result("failed", command, reason="internal error")]
                    for outcome in outcomes:
                        fut = await results.send(
                            key=outcome["conversation_id"].encode(), value=json.dumps(outcome).encode()
                        )
                        await fut

    @app.timer(interval=5.0)
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

    return app
