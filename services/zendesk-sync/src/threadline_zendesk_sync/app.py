"""zendesk-sync's Faust app: every command performed once, in order per conversation, and no
conversation waiting behind another.

Commands are read from Kafka and handed to lanes (threadline_common.lanes): one per conversation,
so its commands run in order, while up to `max_in_flight` commands of all conversations are held
at once. A command is acknowledged only when it is done and its results are on Kafka, and Faust
commits a partition only up to its oldest unacknowledged command, so a crash at any moment loses
nothing; what it repeats, the effects recognise (they look before they write).

Transient failures (rate limits, 5xx, timeouts, an unreachable service) are retried for as long
as they last, the conversation waiting in order and the rest going on; a question kept waiting
by an unreachable Zendesk hears once that it is queued. A command that cannot succeed is
dead-lettered and the router told (a `failed` result). A thread Slack no longer has is reported
(`thread_gone`), never retried. A command past the causal depth limit is a loop: dead-lettered,
never performed, never answered.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any, get_args

import faust
import msgspec
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry, Counter, Gauge

from threadline_common import installations
from threadline_common.causality import depth_header, depth_of, is_loop, loop_reason
from threadline_common.channels import load_channels
from threadline_common.contracts import Topics
from threadline_common.dlq import PoisonMessage
from threadline_common.faust_worker import WEB_OPTIONS, DeadLetters, ExitOnCrash, exit_now, fatal, pause_while
from threadline_common.health import Heartbeat
from threadline_common.installations import TokenResolver, enterprise_in, team_in
from threadline_common.kafka import faust_broker_options
from threadline_common.lanes import Lanes
from threadline_common.logs import log_context
from threadline_common.metrics import add_metrics_page
from threadline_common.models import Activity, CommandV4, SyncResultV4
from threadline_common.models import Command as CommandV1
from threadline_common.models.generated.commands_v4 import ZendeskCreateFollowup, ZendeskCreateTicket
from threadline_common.retry import Attempt, RetryPolicy
from threadline_common.settings import KafkaSettings
from threadline_zendesk_sync.budgets import Budgets
from threadline_zendesk_sync.effects import Effects
from threadline_zendesk_sync.plan import outcomes, slack_posts
from threadline_zendesk_sync.plan.failures import PermanentError, ThreadGone
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.teams import TEAM_SOURCE, TeamWatch, named_groups

log = logging.getLogger(__name__)
# Commands that file a question: the ones whose thread hears when Zendesk keeps them waiting.
FILING = (ZendeskCreateTicket, ZendeskCreateFollowup)


def _variants(union: Any) -> dict[str, type[msgspec.Struct]]:
    """The structs of a generated commands union (Annotated[A | B | ..., Meta]), by `type`."""
    return {str(v.__struct_config__.tag): v for v in get_args(get_args(union)[0])}


# The variants v2 added, by the contracts themselves: a record that says it is v1 cannot be one.
V2_ONLY = tuple(v for tag, v in _variants(CommandV4).items() if tag not in _variants(CommandV1))
# Version 2 of the commands contract reads every v1 command too (schema_version 1 or 2).
_COMMANDS = msgspec.json.Decoder(CommandV4)
_RESULTS = msgspec.json.Encoder()


def decode_command(value: bytes | None) -> CommandV4:
    """A commands record (v1 or v2) as the contract's struct; PoisonMessage saying why not."""
    try:
        command: CommandV4 = _COMMANDS.decode(value or b"")
    except msgspec.ValidationError as exc:
        raise PoisonMessage(f"threadline.commands: {exc}") from exc
    except msgspec.DecodeError as exc:  # not JSON, truncated
        raise PoisonMessage(f"not JSON: {exc}") from exc
    except RecursionError as exc:  # an unknown field nested deeper than the decoder goes
        raise PoisonMessage("not JSON: nested too deep") from exc
    if command.schema_version == 1 and isinstance(command, V2_ONLY):
        raise PoisonMessage(f"threadline.commands v1 has no {outcomes.command_type(command)} command")
    return command


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "threadline_zendesk_sync_commands",
            "Commands by type and outcome (done, already_done, skipped, thread_gone, failed, poison, loop)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.loops = Counter(
            "threadline_zendesk_sync_loops",
            "Commands past the causal depth limit: dead-lettered as a loop, never performed",
            ["type"],
            registry=self.registry,
        )
        self.retries = Counter(
            "threadline_zendesk_sync_retries",
            "Transient failures retried, by command type and the service that failed",
            ["type", "service"],
            registry=self.registry,
        )
        self.queued_notices = Counter(
            "threadline_zendesk_sync_queued_notices",
            "Threads told that their request waits for an unreachable Zendesk",
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "threadline_zendesk_sync_in_flight",
            "Commands held (running or waiting in their lane)",
            registry=self.registry,
        )


class SyncApp(ExitOnCrash, faust.App):
    """A crashed app ends the process (threadline_common.faust_worker)."""


def token_resolver(settings: ZendeskSyncSettings, kafka: KafkaSettings, topics: Topics) -> TokenResolver:
    """The bot token by team: the single token, and with several workspaces the installations
    topic read into memory (its reader thread starts here)."""
    key = settings.slack_installations_key
    return installations.token_resolver(
        settings.slack_bot_token.get_secret_value(),
        key.get_secret_value() if key is not None else None,
        kafka,
        topics.slack_installations,
        client_id=settings.app_id,
        slack_api_url=settings.slack_api_url,
    )


def create_app(settings: ZendeskSyncSettings, kafka: KafkaSettings, effects: Effects | None = None) -> faust.App:
    topics = Topics(kafka.topic_prefix)
    metrics = Metrics()
    # A command's work handles its own failures; one that escapes (Kafka refusing its result) ends
    # the worker, and its unacknowledged commands are redone by whoever reads them next.
    lanes = Lanes(settings.max_in_flight, on_error=lambda key, exc: exit_now(f"the lane of {key!r}", exc))
    metrics.in_flight.set_function(lambda: lanes.in_flight)
    heartbeat = Heartbeat(max_age_seconds=settings.liveness_max_age_seconds, busy=lambda: lanes.in_flight)
    retry = RetryPolicy(max_backoff_seconds=settings.max_backoff_seconds)
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
        # A command may wait minutes on a rate limit or an outage: that is not a stuck consumer.
        broker_max_poll_interval=900.0,
        # Commands read ahead of the lanes, per partition: enough to keep every lane fed.
        stream_buffer_maxsize=max(64, settings.max_in_flight),
        **WEB_OPTIONS,
    )
    commands = app.topic(topics.commands, key_type=bytes, value_type=bytes)
    results = app.topic(topics.results, key_type=bytes, value_type=bytes)
    activity = app.topic(topics.activity, key_type=bytes, value_type=bytes)
    state: dict[str, Effects] = {}
    # Bumped on every revocation: a command read before it (say, one waiting for a free slot
    # while its partition moved) is left to the partition's new reader, unperformed and unacked.
    assignment = {"epoch": 0}

    def get_effects() -> Effects:
        if "effects" not in state:
            budgets = Budgets(
                settings.zendesk_budget_per_minute, settings.slack_channel_interval_seconds, metrics.registry
            )
            state["effects"] = effects or Effects(settings, budgets, token_resolver(settings, kafka, topics))
        return state["effects"]

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget(app: faust.App, revoked: Any, **kwargs: Any) -> None:
        # Another worker acts on these conversations now: stop ours (unacknowledged, so they are
        # its to redo, after it looked) and trust nothing remembered.
        assignment["epoch"] += 1  # what was read before now is no longer ours to perform
        dropped = await lanes.cancel(set(revoked))
        if dropped:
            log.info("partitions revoked: %d commands left to their new owner", dropped)
        if "effects" in state:
            state["effects"].reset_caches()

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_effects(app: faust.App, **kwargs: Any) -> None:
        if "effects" in state:
            await state["effects"].close()

    send_dead_letter = DeadLetters(app, "zendesk-sync").send

    async def tell_queued(command: ZendeskCreateTicket | ZendeskCreateFollowup) -> bool:
        """Say once in the thread that the question waits for Zendesk; True when it is said."""
        channel, thread = command.slack_channel_id, command.slack_thread_ts
        notice = f"queued:{command.command_id}"
        try:
            await get_effects().slack.post_once(
                notice,
                channel,
                thread,
                slack_posts.queued_text(),
                slack_posts.post_metadata(notice),
                since=slack_posts.look_back_from(command),
            )
        except Exception as exc:  # Slack may be down too: try again at the next attempt
            log.info("could not say the request is queued: %s", exc)
            return False
        metrics.queued_notices.inc()
        return True

    async def perform_command(
        command: CommandV4, enterprise_id: str | None = None, team_id: str | None = None
    ) -> tuple[list[SyncResultV4 | Activity], str | None]:
        """Perform until done or failed for good: (its results and activity records, the reason it is
        dead-lettered or None). `enterprise_id`, `team_id`: the organisation and the workspace its
        headers name."""
        kind = outcomes.command_type(command)
        told = not isinstance(command, FILING)

        async def on_retry(attempt: Attempt) -> None:
            nonlocal told
            heartbeat.beat()  # waiting out a failure is progress, not a stuck worker
            metrics.retries.labels(kind, attempt.error.service or "other").inc()
            log.warning("%s; attempt %d, retrying in %.1fs", attempt.error, attempt.number, attempt.pause)
            slow = attempt.failing_for >= settings.queued_notice_after_seconds
            if not told and slow and attempt.error.service == "zendesk" and isinstance(command, FILING):
                told = await tell_queued(command)

        try:
            outcome: Outcome = await retry.run(lambda: get_effects().perform(command, enterprise_id, team_id), on_retry)
            metrics.commands.labels(kind, outcome.effect).inc()
            log.info("%s %s %s", kind, outcome.effect, outcome.detail)
            return [*outcome.results, *outcome.activity], None
        except ThreadGone as exc:
            # Nothing can be said in a thread that is gone; not a failure to tell anyone about.
            metrics.commands.labels(kind, "thread_gone").inc()
            log.info("%s: the Slack thread is gone (%s)", kind, exc)
            return [outcomes.result("thread_gone", command, reason=str(exc))], None
        except PermanentError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug must not stop every other conversation
            log.exception("%s failed unexpectedly", kind)
            reason = f"internal error ({type(exc).__name__})"
        metrics.commands.labels(kind, "failed").inc()
        log.warning("%s failed: %s", kind, reason)
        return [outcomes.result("failed", command, reason=reason)], reason

    async def handle(stream: faust.StreamT, event: faust.EventT, command: CommandV4, depth: int, epoch: int) -> None:
        """One command in its lane: performed, its results on Kafka, then acknowledged."""
        if epoch != assignment["epoch"]:
            return  # read before a rebalance: the partition's reader now reads it again
        message = event.message
        with log_context(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            event_id=command.command_id,
            conversation=command.conversation_id,
        ):
            records, dead = await perform_command(command, enterprise_in(message.headers), team_in(message.headers))
            if dead is not None:
                await send_dead_letter(event, dead, PermanentError(dead))
            # A result is one step further from what people did than its command.
            headers = [depth_header(depth + 1)]
            pending = [
                await (activity if isinstance(r, Activity) else results).send(
                    key=r.conversation_id.encode(), value=_RESULTS.encode(r), headers=headers
                )
                for r in records
            ]
            for fut in pending:
                await fut  # on Kafka before the command counts as done
        await stream.ack(event)
        heartbeat.beat()

    async def refuse(
        stream: faust.StreamT, event: faust.EventT, kind: str, reason: str, error: Exception | None
    ) -> None:
        """A record that is no command to perform (poison, a loop): dead-lettered, acknowledged."""
        metrics.commands.labels(kind, "loop" if error is None else "poison").inc()
        await send_dead_letter(event, reason, error)
        await stream.ack(event)

    @app.agent(commands, name="perform")
    @fatal("agent perform")
    async def perform(stream: faust.StreamT) -> None:
        manual: faust.StreamT = stream.noack()  # type: ignore[attr-defined]  # acked by each lane when done
        await pause_while(settings.disable_message_processing)
        async for event in manual.events():
            try:
                command = decode_command(event.value)
            except PoisonMessage as exc:
                await refuse(manual, event, "unknown", exc.reason, exc)
                continue
            depth = depth_of(event.message.headers)
            if is_loop(depth):
                # A chain of effects feeding itself: performed never, reported never (a result would feed it).
                kind = outcomes.command_type(command)
                metrics.loops.labels(kind).inc()
                await refuse(manual, event, kind, loop_reason(depth), None)
                continue
            key = event.message.key or command.conversation_id.encode()
            work = partial(handle, manual, event, command, depth, assignment["epoch"])
            await lanes.submit(key, work, group=event.message.tp)

    # The user groups the channels name, read from Slack and told to the router (teams.py).
    groups = named_groups(load_channels(settings.channels_file)) if settings.channels_file else []
    inbound = app.topic(topics.router_inbound, key_type=bytes, value_type=bytes)
    watch = TeamWatch(groups, lambda group: get_effects().slack.usergroup_members(group))

    last_told = [0.0]

    async def tell_teams() -> None:
        # The timer runs often so that the first reading comes soon after a start; the groups are
        # read only every usergroup_refresh_seconds.
        if last_told[0] and time.monotonic() - last_told[0] < settings.usergroup_refresh_seconds:
            return
        last_told[0] = time.monotonic()
        pending = [
            await inbound.send(key=key.encode(), value=record, headers=[("threadline-source", TEAM_SOURCE.encode())])
            for key, record in await watch.changes()
        ]
        for fut in pending:
            await fut

    if groups and not settings.disable_message_processing:
        # Every replica reads (on_leader needs a topic the contracts do not declare); the router
        # keeps each group's row once, whoever told it.
        app.timer(interval=min(settings.usergroup_refresh_seconds, 5.0), name="teams")(fatal("timer teams")(tell_teams))

    @app.page("/healthz")
    class Healthz(View):
        async def get(self, request: Request) -> Response:
            ok = heartbeat.alive()
            body = {"alive": ok, "in_flight": lanes.in_flight, "heartbeat_age_s": round(heartbeat.age(), 1)}
            return self.json(body, status=200 if ok else 503)

    @app.page("/readyz")
    class Readyz(View):
        async def get(self, request: Request) -> Response:
            ready = app.consumer is not None and not app.rebalancing
            return self.json({"ready": ready}, status=200 if ready else 503)

    add_metrics_page(app, metrics.registry)

    return app
