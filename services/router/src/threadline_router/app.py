"""The router's Faust app: the thin shell around `rules.route`.

Three agents re-key Slack events, Zendesk events and sync results by conversation id onto one
internal topic; one agent reads it, so every event of a conversation is applied in order by
the partition that owns the conversation's row in the links table. For each event it decodes,
calls `route`, waits until Kafka has acknowledged the commands and activity, and only then
stores the new state: a crash in between replays the event, and the replay produces the same
command ids, which zendesk-sync recognises.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import faust
import msgspec
from faust.tables import TableManager
from faust.web import Request, Response, View
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent

from threadline_common.causality import depth_header, depth_of, is_loop, loop_reason
from threadline_common.channels import ChannelRules, ChannelsConfig, load_channels
from threadline_common.contracts import Topics
from threadline_common.dlq import PoisonMessage
from threadline_common.faust_worker import WEB_OPTIONS, DeadLetters, ExitOnCrash, fatal, pause_while
from threadline_common.health import Heartbeat
from threadline_common.installations import enterprise_header, enterprise_in, team_header, team_of_conversation
from threadline_common.kafka import faust_broker_options
from threadline_common.logs import log_context
from threadline_common.metrics import add_metrics_page
from threadline_common.models import CommandV4, PersonFollows, PersonHome
from threadline_common.models.generated.follows_v1 import FollowedTicket
from threadline_common.settings import KafkaSettings
from threadline_common.times import now_iso
from threadline_router.conversation import Conversation
from threadline_router.due_index import DueIndex, IndexedTable
from threadline_router.follow_rows import FollowRow, decode_follow_row, encode_follow_row, is_follow_key
from threadline_router.inbound import (
    FOLLOWS_SOURCE,
    OPS_SOURCE,
    FollowNote,
    HomeOpened,
    Inbound,
    also_for,
    conversation_of,
    decode_follow_note,
    decode_ops,
    decode_result,
    decode_slack,
    decode_tick,
    decode_zendesk,
    guarded,
    note_record,
    tick_record,
)
from threadline_router.inbound.homes import (
    HOME_SOURCE,
    FollowsChanged,
    HomeRecord,
    HomeTick,
    decode_home,
    home_record,
    record_key,
)
from threadline_router.inbound.rotation import (
    ROTATION_SOURCE,
    HandoverTick,
    decode_handover_tick,
    handover_tick_record,
)
from threadline_router.inbound.slack import enterprise_of_record
from threadline_router.inbound.teams import TEAM_SOURCE, TeamMembers, decode_team, team_key, team_record
from threadline_router.metrics import Metrics, kind_of, outcome_of
from threadline_router.rules import (
    Context,
    Decision,
    FollowDecision,
    command_type,
    route,
    route_follow_row,
)
from threadline_router.rules.fireman import RotationRow, handover_key, on_handover_tick
from threadline_router.rules.home import HomeEvent, HomeState, decide_home, home_due, told_by_conversation
from threadline_router.settings import RouterSettings
from threadline_router.table import ENCODER, MALFORMED, BadRow, decode_home_row, decode_row, encode_row, table_size

log = logging.getLogger(__name__)
ROTATION_ROW = msgspec.json.Decoder(RotationRow)

SOURCE_HEADER = "threadline-source"
DECODERS = {
    source: guarded(decode)  # whatever the bytes, a PoisonMessage at worst
    for source, decode in {
        "slack": decode_slack,
        "zendesk": decode_zendesk,
        "result": decode_result,
        "tick": decode_tick,
        OPS_SOURCE: decode_ops,  # threadline-ops: backfilled messages, relink, unlink
        FOLLOWS_SOURCE: decode_follow_note,  # the router's notes to its own follows rows
    }.items()
}
# The homes timer reads the whole homes table once every this many runs, else only the Homes held back.
HOME_FULL_SCAN_EVERY = 30
# Keys of bad rows already logged: each is logged once (bounded; counted every time regardless).
LOGGED_BAD_ROWS_MAX = 10_000


class KeepDeliveredEvents(FlowControlEvent):
    """Flow control whose resume() keeps the agents' queues when the flow is already on.

    Works around faust's recovery (faust-streaming issue #596): once the links table is read back
    from its changelog, the fetcher runs with the flow on; `on_recovery_completed` then resumes the
    source partitions, awaits the seek to committed offsets and only then calls `flow_control.resume()`,
    which empties every agent queue. A record fetched after its partition was sought is thus dropped
    while the fetcher's position is past it, and is never acked: that partition is neither consumed
    nor committed further until the next rebalance. Nothing stale is kept: revoking partitions
    suspends the flow and empties the queues, and a resume that ends a suspension still empties them.
    """

    def resume(self) -> None:
        if self.is_active():
            return  # the queued events belong to the current assignment: keep them
        super().resume()


class PromptTableManager(TableManager):
    """faust's table manager without the second it sleeps at start before it registers the
    tables' changelogs (faust 0.15 `TableManager.on_start`: `await self.sleep(1.0)`, a wait for
    tables declared late). The group's first assignment waits for that registration, so every
    start of the router waited that second; its tables are all declared in create_app."""

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class RouterApp(ExitOnCrash, faust.App):
    @cached_property
    def flow_control(self) -> FlowControlEvent:
        return KeepDeliveredEvents(loop=self.loop)


def _rotation_people(rules: ChannelRules) -> tuple[str, ...]:
    rotation = rules.rotation
    return () if rotation is None or rotation.people == "team" else rotation.people


def rocksdb_options(settings: RouterSettings, cache_mib: int) -> dict[str, int]:
    """RocksDB sized for a pod, per partition: faust's defaults (a 2 GiB block cache and three
    64 MiB memtables for each partition of each table) let resident memory grow with the table;
    rows are read from disk (and the OS page cache) instead."""
    return {
        "write_buffer_size": settings.rocksdb_write_buffer_mib * 1024 * 1024,
        "max_write_buffer_number": 2,
        "block_cache_size": cache_mib * 1024 * 1024,
    }


def create_app(settings: RouterSettings, kafka: KafkaSettings, channels: ChannelsConfig | None = None) -> faust.App:
    channels = channels or load_channels(settings.channels_file)
    topics = Topics(kafka.topic_prefix)
    heartbeat = Heartbeat(max_age_seconds=settings.liveness_max_age_seconds)
    base_context = Context(
        channels=channels,
        bot_user_id=settings.slack_bot_user_id,
        bot_id=settings.slack_bot_id,
        allowed_bot_ids=frozenset(settings.allowed_bot_ids),
        zendesk_api_user_id=settings.zendesk_api_user_id,
    )

    app = RouterApp(
        settings.app_id,
        **faust_broker_options(kafka),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=False,  # topics come from schemas/ (make infra, the chart's job)
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        broker_commit_every=100,
        table_standby_replicas=settings.standby_replicas,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_seconds / 4),
        broker_commit_interval=1.0,
        TableManager=PromptTableManager,
        **WEB_OPTIONS,
    )

    def raw_topic(name: str, **kw: Any) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, **kw)

    slack_events = raw_topic(topics.slack_events)
    zendesk_events = raw_topic(topics.zendesk_events)
    results = raw_topic(topics.results)
    inbound = raw_topic(topics.router_inbound, partitions=settings.partitions)
    commands = raw_topic(topics.commands)
    activity = raw_topic(topics.activity)

    links = IndexedTable(
        app,
        name="links",
        default=None,
        beacon=app.tables.beacon,
        partitions=settings.partitions,
        # bytes keys: what is written and what recovery reads back from the changelog are alike.
        key_type=bytes,
        value_type=bytes,
        changelog_topic=app.topic(
            topics.links, partitions=settings.partitions, key_type=bytes, value_type=bytes, compacting=True
        ),
        options=rocksdb_options(settings, settings.rocksdb_links_cache_mib),
    )
    app.tables.add(links)
    # Beside the table's own files (RocksDB), or in memory with the memory store (tests).
    due_index = DueIndex(channels, Path(app.conf.tabledir) if settings.store == "rocksdb://" else None)
    links.due_index = due_index

    # Who follows which ticket (rows ticket:<id>) and which tickets each person follows (rows
    # person:<team>:<user>): keyed like the inbound records that decide them, so co-partitioned.
    follows = app.Table(
        "follows",
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        changelog_topic=app.topic(
            topics.follows, partitions=settings.partitions, key_type=bytes, value_type=bytes, compacting=True
        ),
        options=rocksdb_options(settings, settings.rocksdb_cache_mib),
    )

    # Each person's App Home and each channel's queue (rules.home), keyed person:/queue:.
    homes = app.Table(
        "homes",
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
        changelog_topic=app.topic(
            topics.homes, partitions=settings.partitions, key_type=bytes, value_type=bytes, compacting=True
        ),
        options=rocksdb_options(settings, settings.rocksdb_cache_mib),
    )

    def table_rows() -> float:
        try:
            return float(table_size(links))
        except Exception:  # partitions moving or the store not open yet: unknown, not a failed scrape
            log.debug("links table size unavailable", exc_info=True)
            return float("nan")

    metrics = Metrics(table_rows)
    logged_bad_rows: set[bytes] = set()

    def bad_row(where: str, key: bytes, error: BaseException) -> None:
        """Count a row that did not decode; log it, with its key, the first time only."""
        metrics.bad_rows.labels(where).inc()
        if key not in logged_bad_rows and len(logged_bad_rows) < LOGGED_BAD_ROWS_MAX:
            logged_bad_rows.add(key)
            log.error("links row %r does not decode (%s); skipped", key[:200], error)

    due_index.on_bad_row = lambda key, exc: bad_row("reminders", key, exc)
    due_index.count_bad_rows = lambda n: metrics.bad_rows.labels("reminders").inc(n)

    send_dead_letter = DeadLetters(app, "router").send

    def make_forwarder(source: str) -> Any:
        decode = DECODERS[source]

        async def forward_one(event: faust.EventT) -> None:
            message = event.message
            with log_context(topic=message.topic, partition=message.partition, offset=message.offset):
                try:
                    decoded = decode(event.value)
                except PoisonMessage as exc:
                    await send_dead_letter(event, exc.reason, exc)
                    metrics.record(source, "dead_lettered")
                    return
                if decoded is None:
                    metrics.record(source, "ignored")
                    return
                try:
                    key = conversation_of(decoded).encode()
                except MALFORMED as exc:  # decoded, yet no conversation key can be made of it
                    await send_dead_letter(event, f"no conversation key: {type(exc).__name__}", exc)
                    metrics.record(source, "dead_lettered")
                    return
                headers = [(SOURCE_HEADER, source.encode()), depth_header(depth_of(message.headers))]
                # The conversation's row, and any other row the event matters to (a ticket's followers).
                keys = [key, *(k.encode() for k in also_for(decoded))]
                pending = [await inbound.send(key=k, value=event.value, headers=headers) for k in keys]
                for fut in pending:
                    await fut

        async def forward(stream: faust.StreamT) -> None:
            await pause_while(settings.disable_message_processing)
            async for event in stream.events():
                with heartbeat.working():
                    await forward_one(event)

        forward.__name__ = f"forward_{source}"
        return forward

    # Every agent and timer is `fatal`: an exception that escapes one ends the process (exit 70)
    # for Kubernetes to restart, instead of Faust carrying on without it.
    for topic, name, source in (
        (slack_events, "forward-slack", "slack"),
        (zendesk_events, "forward-zendesk", "zendesk"),
        (results, "forward-results", "result"),
    ):
        app.agent(topic, name=name)(fatal(f"agent {name}")(make_forwarder(source)))

    def inbound_source(message: Any) -> str:
        headers = message.headers
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for name, value in items:
            if name == SOURCE_HEADER:
                return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        return ""

    @app.agent(inbound, name="conversations")
    @fatal("agent conversations")
    async def conversations(stream: faust.StreamT) -> None:
        await pause_while(settings.disable_message_processing)
        async for event in stream.events():
            with heartbeat.working():
                await converse(event)

    async def send_note(note: FollowNote, depth: int) -> Any:
        """A note to another row of this router, on the inbound topic under that row's key."""
        headers = [(SOURCE_HEADER, FOLLOWS_SOURCE.encode()), depth_header(depth)]
        return await inbound.send(key=conversation_of(note).encode(), value=note_record(note), headers=headers)

    async def converse(event: faust.EventT) -> None:
        message = event.message
        source = inbound_source(message)
        raw_key = event.key if isinstance(event.key, bytes) else None
        try:
            key = raw_key.decode() if raw_key else ""
        except UnicodeDecodeError:
            key = ""
        with log_context(topic=message.topic, partition=message.partition, offset=message.offset, conversation=key):
            if not key:
                await send_dead_letter(event, "inbound record without a UTF-8 conversation key", None)
                metrics.record(source if source in DECODERS else "unknown", "dead_lettered")
                return
            if source == TEAM_SOURCE:  # a user group's members, from zendesk-sync (inbound.teams)
                try:
                    members = decode_team(event.value)
                except PoisonMessage as exc:
                    await send_dead_letter(event, exc.reason, exc)
                    metrics.record(TEAM_SOURCE, "dead_lettered")
                    return
                await keep_team(key, members)
                return
            if source == ROTATION_SOURCE:  # a hand-over tick for a channel's rotation (every worker ticks)
                try:
                    tick = decode_handover_tick(event.value)
                except PoisonMessage as exc:
                    await send_dead_letter(event, exc.reason, exc)
                    metrics.record(ROTATION_SOURCE, "dead_lettered")
                    return
                await converse_rotation(event, key, tick)
                return
            if source == HOME_SOURCE:  # the router's own record about a Home or a channel queue
                try:
                    record = decode_home(event.value)
                except PoisonMessage as exc:
                    await send_dead_letter(event, exc.reason, exc)
                    metrics.record(HOME_SOURCE, "dead_lettered")
                    return
                await converse_home(event, key, record)
                return
            try:
                decoded: Inbound | None = DECODERS[source](event.value)
            except (PoisonMessage, KeyError) as exc:
                await send_dead_letter(event, f"undecodable inbound record from {source[:50]!r}", exc)
                metrics.record(source if source in DECODERS else "unknown", "dead_lettered")
                return
            if decoded is None:
                metrics.record(source, "ignored")
                return
            if isinstance(decoded, HomeOpened):
                if not settings.app_home:
                    metrics.record(source, "ignored")
                    return
                await converse_home(event, key, decoded)
                return
            ctx = Context(**{**base_context.__dict__, "now": now_iso(), "groups": known_groups()})
            follow_row: FollowRow | None = None
            state: Conversation | None = None
            if is_follow_key(key):
                raw_row = follows.get(key.encode())
                if raw_row:
                    try:
                        follow_row = decode_follow_row(raw_row)
                    except BadRow as exc:  # decided as if absent, as a bad links row is
                        bad_row("follows", key.encode(), exc)
            else:
                raw_state = links.get(key.encode())
                if raw_state:
                    try:
                        state = decode_row(raw_state)
                    except BadRow as exc:
                        # Routed as a conversation without a row: ids come from the events, so
                        # whatever is done again is recognised downstream; a good row replaces it.
                        bad_row("conversations", key.encode(), exc)
            try:
                decision: Decision | FollowDecision = (
                    route_follow_row(decoded, follow_row, key, ctx)
                    if is_follow_key(key)
                    else route(decoded, state, ctx)
                )
            except Exception as exc:  # a bug in one rule must not stop every conversation
                log.exception("routing failed")
                await send_dead_letter(event, f"routing failed: {exc!r}", exc)
                metrics.record(kind_of(decoded), "dead_lettered")
                return
            depth = depth_of(message.headers)
            if decision.commands and is_loop(depth):
                # A chain of effects feeding itself: stop it here, once, and say so.
                await send_dead_letter(event, loop_reason(depth), None)
                metrics.loops.labels(kind_of(decoded)).inc()
                metrics.record(kind_of(decoded), "dead_lettered")
                return
            # A command is as deep as what caused it; zendesk-sync's result is one deeper. One
            # caused by a Slack request names its Enterprise Grid organisation, if any (its install).
            enterprise = enterprise_of_record(event.value) if source == "slack" else None
            command_headers = [depth_header(depth), *enterprise_header(enterprise)]
            # A follows row's key may name no workspace (`ticket:<id>`): its commands say whose
            # they are, as the router knows it (each follower's team for their DM, the person's who
            # asked for an answer to a Slack request), so zendesk-sync uses that workspace's token.
            asker = getattr(decoded, "team_id", None) if isinstance(decision, FollowDecision) else None
            teams = decision.teams if isinstance(decision, FollowDecision) else {}
            named = team_of_conversation(key) is not None

            def headers_of(c: CommandV4) -> list[tuple[str, bytes]]:
                team = None if named else teams.get(c.command_id) or asker
                return [*command_headers, *team_header(team if isinstance(team, str) else None)]

            pending = [
                await commands.send(key=key.encode(), value=ENCODER.encode(c), headers=headers_of(c))
                for c in decision.commands
            ]
            pending += [await activity.send(key=key.encode(), value=ENCODER.encode(a)) for a in decision.activity]
            pending += [await send_note(note, depth) for note in decision.notes]
            # The Homes and the queue this change concerns are told before the row moves on.
            told: list[HomeRecord] = []
            if settings.app_home and isinstance(decision, FollowDecision):
                if isinstance(decision.row, PersonFollows) and decision.row != follow_row:
                    # Their Home lists the tickets they follow. Decided after this record (one
                    # stream), so it reads the row written below.
                    told = [FollowsChanged(key, decision.row.team_id, decision.row.user, ctx.now)]
            elif settings.app_home and isinstance(decision, Decision):
                told = told_by_conversation(state, None if decision.unlink else (decision.state or state), ctx)
            pending += [await send_home_record(r, command_headers) for r in told]
            for fut in pending:
                await fut  # acknowledged by Kafka before the state moves on
            changed = False
            if isinstance(decision, FollowDecision):
                if decision.row is not None and decision.row != follow_row:
                    follows[key.encode()] = encode_follow_row(decision.row)
                    changed = True
            elif decision.unlink and state is not None:
                del links[key.encode()]  # a tombstone in the changelog
                due_index.put_state(message.partition, key.encode(), None)
            elif decision.state is not None and decision.state != state:
                links[key.encode()] = encode_row(decision.state)
                due_index.put_state(message.partition, key.encode(), decision.state)
                changed = True
            # Counted once Kafka has the commands: a replay after a crash counts them again.
            metrics.record(kind_of(decoded), outcome_of(decision, changed))
            for c in decision.commands:
                metrics.commands.labels(command_type(c)).inc()
            if decision.commands:
                log.info(
                    "routed %s: %s",
                    type(decoded).__name__,
                    ", ".join(command_type(c) for c in decision.commands),
                )
            elif decision.reason:
                log.debug("no effect: %s", decision.reason)

    async def send_home_record(record: HomeRecord, headers: list[tuple[str, bytes]]) -> Any:
        return await inbound.send(
            key=record_key(record).encode(),
            value=home_record(record),
            headers=[(SOURCE_HEADER, HOME_SOURCE.encode()), *headers],
        )

    def followed_by(key: str) -> tuple[FollowedTicket, ...]:
        """The tickets a person follows: their follows row, kept under the same key as their Home
        (so on this same partition)."""
        raw = follows.get(key.encode()) if key.startswith("person:") else None
        if not raw:
            return ()
        try:
            row = decode_follow_row(raw)
        except BadRow as exc:
            bad_row("follows", key.encode(), exc)
            return ()
        return tuple(row.tickets) if isinstance(row, PersonFollows) else ()

    async def converse_home(event: faust.EventT, key: str, decoded: HomeEvent) -> None:
        """A Home visit or a home record, decided on its homes row (rules.home)."""
        kind = f"home_{type(decoded).__name__}".lower()
        raw_state = homes.get(key.encode())
        state: HomeState | None = None
        if raw_state:
            try:
                state = decode_home_row(raw_state)
            except BadRow as exc:
                bad_row("homes", key.encode(), exc)  # a good row replaces it
        ctx = Context(**{**base_context.__dict__, "now": now_iso()})
        followed = followed_by(key)
        try:
            decision = decide_home(decoded, state, ctx, followed)
        except Exception as exc:  # a bug in one rule must not stop every Home
            log.exception("home rule failed")
            await send_dead_letter(event, f"home rule failed: {exc!r}", exc)
            metrics.record(kind, "dead_lettered")
            return
        # The publish is made with the token of the person's workspace (their key's team), and
        # of its organisation's org-wide install when the Slack request behind it named one: the
        # Home visit's own (authorizations[0]), or the conversation's change that told the Home.
        visit = isinstance(decoded, HomeOpened)
        enterprise = enterprise_of_record(event.value) if visit else enterprise_in(event.message.headers)
        headers = [depth_header(depth_of(event.message.headers)), *enterprise_header(enterprise)]
        pending = [
            await commands.send(key=key.encode(), value=ENCODER.encode(c), headers=headers) for c in decision.commands
        ]
        pending += [await send_home_record(r, headers) for r in decision.records]
        for fut in pending:
            await fut
        changed = decision.state is not None and decision.state != state
        if changed:
            homes[key.encode()] = ENCODER.encode(decision.state)
        if isinstance(decision.state, PersonHome) and decision.state.dirty:
            held_homes.add(key.encode())
        else:
            held_homes.discard(key.encode())
        metrics.record(kind, "commands" if decision.commands else "recorded" if changed else "no_effect")
        for c in decision.commands:
            metrics.commands.labels(command_type(c)).inc()
        if decision.commands:
            log.info("home %s: published", key)
        elif decision.reason:
            log.debug("home %s: %s", key, decision.reason)

    # Homes this worker held back (debounce): the timer looks at these, and at the whole table
    # only every HOME_FULL_SCAN_EVERY runs (after a restart or a rebalance, what another worker
    # held back is found there).
    held_homes: set[bytes] = set()
    home_runs = [0]

    async def find_due_homes() -> None:
        """Ask each Home whose publish was held back (debounce) and whose period is over to
        publish: within its own stream, in order, like any home event."""
        now = now_iso()
        home_runs[0] += 1
        if home_runs[0] % HOME_FULL_SCAN_EVERY == 1:
            rows = [(k, v) for k, v in list(homes.items()) if v and bytes(k).startswith(b"person:")]
        else:
            rows = [(k, v) for k in list(held_homes) if (v := homes.get(k))]
        for key, raw in rows:
            try:
                home = decode_home_row(raw)
            except BadRow as exc:
                bad_row("homes", key if isinstance(key, bytes) else str(key).encode(), exc)
                continue
            if isinstance(home, PersonHome) and home_due(home, now):
                fut = await send_home_record(HomeTick(home.person, home.team_id, home.user, now), [])
                await fut
            elif not (isinstance(home, PersonHome) and home.dirty):
                held_homes.discard(bytes(key))

    if settings.app_home and not settings.disable_message_processing:
        app.timer(interval=settings.home_interval_seconds, name="homes")(fatal("timer homes")(find_due_homes))

    named_groups = sorted(
        {e for rules in channels.all_rules() for e in (*rules.team, *_rotation_people(rules)) if e.startswith("S")}
    )

    def known_groups() -> dict[str, tuple[str, ...]]:
        """The members of the user groups the channels name, as this partition last heard them."""
        groups: dict[str, tuple[str, ...]] = {}
        for group in named_groups:
            raw = homes.get(team_key(group).encode())
            if raw:
                try:
                    groups[group] = decode_team(raw).users
                except PoisonMessage as exc:
                    bad_row("teams", team_key(group).encode(), exc)
        return groups

    async def keep_team(key: str, members: TeamMembers) -> None:
        """zendesk-sync's word on a group: copied to every partition, each of which keeps it."""
        if not members.fanned:
            copy = team_record(replace(members, fanned=True))
            headers = [(SOURCE_HEADER, TEAM_SOURCE.encode())]
            pending = [
                await inbound.send(key=key.encode(), value=copy, partition=p, headers=headers)
                for p in range(settings.partitions)
            ]
            for fut in pending:
                await fut
            metrics.record(TEAM_SOURCE, "commands")
            return
        stored = team_record(replace(members, fanned=False))
        if homes.get(key.encode()) != stored:
            homes[key.encode()] = stored
            log.info("user group %s: %d members", members.usergroup, len(members.users))
            metrics.record(TEAM_SOURCE, "recorded")
        else:
            metrics.record(TEAM_SOURCE, "no_effect")

    async def converse_rotation(event: faust.EventT, key: str, tick: HandoverTick) -> None:
        """A hand-over tick, decided on the channel's rotation row (kept in the homes table, whose
        readers look only at person:/queue: rows)."""
        raw = homes.get(key.encode())
        row: RotationRow | None = None
        if raw:
            try:
                row = ROTATION_ROW.decode(raw)
            except msgspec.DecodeError as exc:
                bad_row("rotation", key.encode(), exc)  # decided as if absent: the post is looked for first
        ctx = Context(**{**base_context.__dict__, "now": tick.at, "groups": known_groups()})
        new_row, posts, reason = on_handover_tick(tick.channel_id, row, ctx)
        headers = [depth_header(depth_of(event.message.headers))]
        pending = [await commands.send(key=key.encode(), value=ENCODER.encode(c), headers=headers) for c in posts]
        for fut in pending:
            await fut  # acknowledged by Kafka before the row says it was announced
        if new_row is not None and new_row != row:
            homes[key.encode()] = ENCODER.encode(new_row)
        metrics.record(ROTATION_SOURCE, "commands" if posts else "recorded" if new_row != row else "no_effect")
        for c in posts:
            metrics.commands.labels(command_type(c)).inc()
        if posts:
            log.info("rotation %s: hand-over announced", key)
        elif reason:
            log.debug("rotation %s: %s", key, reason)

    rotating = [channel for channel, rules in channels.channels.items() if rules.rotation is not None]

    async def tick_rotations() -> None:
        """Ask each rotating channel's row whether a hand-over is due its announcement; the row
        answers once per hand-over. Every worker asks (Faust's on_leader needs a topic of its
        own, which the contracts do not declare): a few records per channel and interval."""
        now = now_iso()
        for channel in rotating:
            fut = await inbound.send(
                key=handover_key(channel).encode(),
                value=handover_tick_record(channel, now),
                headers=[(SOURCE_HEADER, ROTATION_SOURCE.encode())],
            )
            await fut

    if rotating and not settings.disable_message_processing:
        app.timer(interval=settings.handover_interval_seconds, name="rotations")(
            fatal("timer rotations")(tick_rotations)
        )

    async def find_due_reminders() -> None:
        """Ask the conversations agent to look at each conversation of this worker's partitions
        whose next reminder the due-time index says is due: it decides and writes the table
        within the conversation's own stream, in order. Reads only what is due (due_index)."""
        now = now_iso()
        changelog = links.changelog_topic.get_topic_name()
        began = time.perf_counter()
        due = [
            key
            for tp in sorted(app.assignor.assigned_actives())
            if tp.topic == changelog
            for key in due_index.due(tp.partition, now)
        ]
        metrics.reminder_scan.observe(time.perf_counter() - began)
        metrics.reminders_due.inc(len(due))
        for key in due:
            fut = await inbound.send(
                key=key, value=tick_record(key.decode(errors="replace"), now), headers=[(SOURCE_HEADER, b"tick")]
            )
            await fut

    if any(rules.reminders for rules in channels.all_rules()) and not settings.disable_message_processing:
        app.timer(interval=settings.reminder_interval_seconds, name="reminders")(
            fatal("timer reminders")(find_due_reminders)
        )

    @app.page("/healthz")
    class Healthz(View):
        async def get(self, request: Request) -> Response:
            ok = heartbeat.alive()
            return self.json({"alive": ok, "heartbeat_age_s": round(heartbeat.age(), 1)}, status=200 if ok else 503)

    @app.page("/readyz")
    class Readyz(View):
        async def get(self, request: Request) -> Response:
            ready = bool(app.consumer and app.consumer.assignment() is not None) and not app.rebalancing
            return self.json({"ready": ready}, status=200 if ready else 503)

    add_metrics_page(app, metrics.registry)

    return app
