"""Verified requests in, records on Kafka out: shared by the HTTP routes and Socket Mode.

A call returns once the broker has acknowledged the record (or the request was dropped or is
a redelivery of one already published) and raises PublishError when Kafka did not take it in
time, so the caller can make Slack or Zendesk deliver it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import replace
from functools import partial
from typing import Any

from threadline_common.contracts import Topics
from threadline_common.logs import log_context
from threadline_common.models import SlackEventRecord, ZendeskEventRecord
from threadline_ingest.metrics import Metrics
from threadline_ingest.publisher import Headers, Publisher, PublishError
from threadline_ingest.records import encode
from threadline_ingest.settings import IngestSettings
from threadline_ingest.slack import (
    Drop,
    Kind,
    SlackPolicy,
    Source,
    check_command,
    check_event_callback,
    check_interaction,
    event_id_of,
    route_command,
    route_event,
    route_interaction,
    slack_record,
)
from threadline_ingest.zendesk import ZendeskKind, check_event_webhook, record_key, zendesk_record

log = logging.getLogger(__name__)


class NotStarted(PublishError):
    """A request arrived before the producer exists (startup) or after it closed (shutdown)."""


class RecentIds:
    """Event ids acknowledged lately: a redelivery of one of them is answered, not republished.

    Only a shortcut: downstream deduplicates by event_id for real, so forgetting (a restart, an
    eviction) costs a duplicate record, never a lost one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


class Ingest:
    def __init__(self, settings: IngestSettings, topics: Topics, metrics: Metrics) -> None:
        self.settings = settings
        self.topics = topics
        self.metrics = metrics
        self.policy = SlackPolicy(
            team_ids=frozenset(settings.slack_team_ids),
            app_ids=frozenset(settings.slack_app_ids),
            channels=frozenset(settings.monitored_channels),
            direct_messages=settings.direct_messages,
        )
        self.publisher: Publisher | None = None
        self.oauth: Any = None  # routes.slack_oauth.OAuthDoor when several workspaces are configured
        self._recent = RecentIds(settings.dedup_cache_size)
        self._pending: dict[str, asyncio.Future[float]] = {}

    def _policy(self) -> SlackPolicy:
        """With several workspaces, a listed set of teams (slack_team_ids) takes the installed
        teams and organisations too: an install is the admin's say that its events are wanted."""
        if self.oauth is None or not self.policy.team_ids:
            return self.policy
        installed = self.oauth.store.installed_ids()
        return replace(self.policy, team_ids=self.policy.team_ids | installed) if installed else self.policy

    async def slack(
        self,
        kind: Kind,
        body: dict[str, Any],
        raw: bytes | None,
        source: Source,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Publish one Slack request (raises BadRequest, PublishError). Returns what happened:
        "published", "duplicate" or "dropped:<reason>"."""
        policy = self._policy()
        if kind == "event_callback":
            check_event_callback(body)
            decision = route_event(body, policy)
        elif kind == "interaction":
            check_interaction(body)
            decision = route_interaction(body, policy)
        else:
            check_command(body)
            decision = route_command(body, policy)
        if isinstance(decision, Drop):
            self.metrics.dropped.labels(decision.reason).inc()
            return f"dropped:{decision.reason}"
        event_id = event_id_of(kind, body, raw)
        record = slack_record(
            kind=kind,
            body=body,
            event_id=event_id,
            accepted=decision,
            now=time.time(),
            source=source,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )
        headers: Headers = [("event_id", event_id.encode()), ("kind", kind.encode())]
        if retry_num is not None:
            headers.append(("retry_num", str(retry_num).encode()))
        with log_context(event_id=event_id):
            return await self._publish(self.topics.slack_events, decision.key, record, headers, f"slack:{event_id}")

    async def zendesk(
        self,
        kind: ZendeskKind,
        body: dict[str, Any],
        raw: bytes,
        webhook_id: str | None,
        invocation_id: str | None = None,
    ) -> str:
        """Publish one Zendesk request (raises BadRequest, PublishError)."""
        if kind == "event_webhook":
            check_event_webhook(body)
        record = zendesk_record(
            kind=kind, body=body, raw=raw, webhook_id=webhook_id, now=time.time(), invocation_id=invocation_id
        )
        key = record_key(kind, body, record.ticket_id)
        headers: Headers = [("event_id", record.event_id.encode()), ("kind", kind.encode())]
        if webhook_id:
            headers.append(("webhook_id", webhook_id.encode()))
        with log_context(event_id=record.event_id):
            return await self._publish(self.topics.zendesk_events, key, record, headers, f"zendesk:{record.event_id}")

    async def _publish(
        self,
        topic: str,
        key: str | None,
        record: SlackEventRecord | ZendeskEventRecord,
        headers: Headers,
        dedup: str,
    ) -> str:
        if dedup in self._recent:
            self.metrics.duplicates.inc()
            return "duplicate"
        publisher = self.publisher
        if publisher is None:
            raise NotStarted("ingest is not running")
        future = self._pending.get(dedup)
        outcome = "published"
        if future is None:
            value = encode(record)
            try:
                future = publisher.submit(topic, key, value, headers)
            except PublishError:
                self.metrics.publish_failures.labels(topic).inc()
                raise
            self._pending[dedup] = future
            future.add_done_callback(partial(self._settled, topic, record.kind, dedup))
        else:
            # Slack retried while the first delivery is still on its way: wait for that one.
            self.metrics.duplicates.inc()
            outcome = "duplicate"
        try:
            await publisher.wait(future, self.settings.ack_timeout_seconds)
        except PublishError as exc:
            self.metrics.publish_failures.labels(topic).inc()
            log.warning("Kafka did not acknowledge a record for %s: %s", topic, exc)
            raise
        return outcome

    def _settled(self, topic: str, kind: str, dedup: str, future: asyncio.Future[float]) -> None:
        """Runs when the broker answers, even after the request gave up waiting (then answered 503):
        a record acknowledged late still spares its redelivery a second copy."""
        if self._pending.get(dedup) is future:
            del self._pending[dedup]
        if future.cancelled() or future.exception() is not None:
            return
        self._recent.add(dedup)
        self.metrics.acknowledged(topic, kind, future.result())
