"""The indexing loop: decode -> documents -> batch by size and time -> bulk -> commit.

Offsets are committed only after the batch's events and the conversations they touch are in
Elasticsearch. While Elasticsearch is down or answers 429, the loop keeps the batch, pauses
its partitions (so the group membership stays alive without reading more) and tries again with
a growing pause: nothing is lost and nothing is committed. Records that can never be indexed
(undecodable, rejected by the mapping) go to the dead-letter topic, then their offsets are
committed like the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from threadline_common.business_hours import Calendar
from threadline_common.dlq import DeadLetterProducer, PoisonMessage, dead_letter
from threadline_common.health import Heartbeat
from threadline_common.logs import log_context
from threadline_common.retry import Attempt, RetryPolicy, TransientError
from threadline_reporter.documents import (
    Privacy,
    decode_activity,
    doc_id,
    email_ticket,
    fold_conversation,
    index_actions,
    merge_conversations,
)
from threadline_reporter.indices import Names
from threadline_reporter.metrics import Metrics

log = logging.getLogger(__name__)
SERVICE = "reporter"
# Rounds of reading related conversations: an emailed ticket and its thread need two.
MERGE_ROUNDS = 4


class TransientFailure(TransientError):
    """Elasticsearch (or the dead-letter topic) did not take the batch; try the same batch again."""


def bulk_operations(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """helpers-style actions -> the bulk API's alternating header/body lines."""
    ops: list[dict[str, Any]] = []
    for action in actions:
        body = {k: v for k, v in action.items() if not k.startswith("_")}
        op = action["_op_type"]
        ops.append({op: {"_index": action["_index"], "_id": action["_id"]}})
        if op != "delete":
            ops.append(body)
    return ops


def item_problem(op: str, item: dict[str, Any]) -> str | None:
    """None when the item is done; 'retry' when it may succeed later; else the reason it never will."""
    status = int(item.get("status", 500))
    if status < 300:
        return None
    error = item.get("error") or {}
    if op == "update" and status == 404:
        return None  # the edited or deleted message was never indexed (or is past retention)
    if status == 429 or status >= 500:
        return "retry"
    return f"{error.get('type', status)}: {error.get('reason', '')}"[:500]


class Indexer:
    def __init__(
        self,
        *,
        consumer_config: dict[str, Any],
        topic: str,
        es: Elasticsearch,
        names: Names,
        privacy: Privacy,
        calendar_for: Callable[[str], Calendar],
        dead_letters: DeadLetterProducer,
        metrics: Metrics,
        heartbeat: Heartbeat,
        bridge_actor_ids: frozenset[str] = frozenset(),
        batch_size: int = 500,
        batch_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.consumer_config = consumer_config
        self.topic = topic
        self.es = es
        self.names = names
        self.privacy = privacy
        self.calendar_for = calendar_for
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.bridge_actor_ids = bridge_actor_ids
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.retry = RetryPolicy(max_backoff_seconds=max_backoff_seconds, initial_seconds=0.25)
        self.batch: list[Message] = []
        self.first_at = 0.0
        self.ready = threading.Event()

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        consumer = Consumer(self.consumer_config)
        consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke)
        log.info("indexing %s into %s*", self.topic, self.names.prefix)
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                message = consumer.poll(0.2)
                if message is not None:
                    self._take(message)
                self.metrics.batch_size.set(len(self.batch))
                due = self.batch and (
                    len(self.batch) >= self.batch_size or time.monotonic() - self.first_at >= self.batch_seconds
                )
                if due:
                    self._flush_until_done(consumer, stop)
            self._flush_before_stopping(consumer)
        finally:
            consumer.close()

    def _flush_before_stopping(self, consumer: Consumer) -> None:
        """One last attempt at what is waiting, so that a stop (a rollout, SIGTERM) leaves nothing
        for the next owner to read again; if Elasticsearch refuses it, the offsets stay uncommitted."""
        if not self.batch:
            return
        batch = list(self.batch)
        try:
            self.flush(batch)
        except TransientFailure as exc:
            log.warning(
                "stopping with %d records not indexed (%s); they are read again at the next start", len(batch), exc
            )
            return
        self.metrics.flushes.labels("ok").inc()
        self._commit(consumer, batch)
        self.batch = []

    def _take(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", error)
            return
        if not self.batch:
            self.first_at = time.monotonic()
        self.batch.append(message)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.ready.set()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Records of partitions that moved elsewhere are not ours to commit; their new owner reads
        # them again from the last committed offset (documents are overwritten, not duplicated).
        gone = {(p.topic, p.partition) for p in partitions}
        self.batch = [m for m in self.batch if (m.topic(), m.partition()) not in gone]

    def _flush_until_done(self, consumer: Consumer, stop: threading.Event) -> None:
        """Flush what is waiting, batch by batch, retrying a batch Elasticsearch did not take (the
        shared retry policy) with the partitions paused; nothing is committed until it is taken."""
        paused: list[TopicPartition] = []

        def on_retry(attempt: Attempt) -> None:
            nonlocal paused
            self.metrics.flushes.labels("retry").inc()
            log.warning("flush failed (%s); retrying in %.1fs", attempt.error, attempt.pause)
            if not paused:
                paused = list(consumer.assignment())
                consumer.pause(paused)

        batch: list[Message] = []

        def attempt() -> None:
            # What is waiting now: a pause may have taken records in, or a revocation some away.
            batch[:] = self.batch
            self.flush(list(batch))

        try:
            while self.batch and not stop.is_set():
                try:
                    self.retry.run_sync(
                        attempt,
                        on_retry,
                        sleep=lambda seconds: self._wait(consumer, stop, seconds),
                        until=stop.is_set,
                    )
                except TransientFailure:
                    return  # stopping: the batch stays uncommitted, for the next reader
                self.metrics.flushes.labels("ok").inc()
                self._commit(consumer, batch)
                done = {id(m) for m in batch}
                self.batch = [m for m in self.batch if id(m) not in done]
                if self.batch:
                    self.first_at = time.monotonic()
        finally:
            if paused:
                consumer.resume(consumer.assignment())

    def _wait(self, consumer: Consumer, stop: threading.Event, seconds: float) -> None:
        """Pause while still polling: the group keeps us, and a rebalance is handled meanwhile."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            self.heartbeat.beat()
            message = consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
            if message is not None:
                self._take(message)  # from a partition assigned during the pause

    def _commit(self, consumer: Consumer, batch: list[Message]) -> None:
        offsets: dict[tuple[str, int], int] = {}
        for m in batch:
            key = (m.topic() or self.topic, m.partition() or 0)
            offsets[key] = max(offsets.get(key, -1), m.offset() or 0)
        try:
            consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()], asynchronous=False)
        except KafkaException as exc:
            # A rebalance took the partition: its new owner reindexes from the last commit, harmlessly.
            log.warning("commit failed (%s); the records will be indexed again", exc)

    # --- one flush ------------------------------------------------------------------------

    def flush(self, batch: list[Message]) -> None:
        records: list[tuple[Message, dict[str, Any]]] = []
        poison: list[tuple[Message, PoisonMessage]] = []
        for m in batch:
            try:
                records.append((m, decode_activity(m.value())))
            except PoisonMessage as bad:
                poison.append((m, bad))
        rejected = self._index_events(records)
        poison += rejected
        rejected_ids = {id(m) for m, _ in rejected}
        good = [r for m, r in records if id(m) not in rejected_ids]
        self._index_conversations(good)
        for m, exc in poison:
            self._dead_letter(m, exc)
        self.metrics.records.labels("indexed").inc(len(good))
        self.metrics.records.labels("dead_lettered").inc(len(poison))

    def _index_events(self, records: list[tuple[Message, dict[str, Any]]]) -> list[tuple[Message, PoisonMessage]]:
        actions: list[dict[str, Any]] = []
        owners: list[Message] = []
        untransformable: list[tuple[Message, PoisonMessage]] = []
        for m, record in records:
            try:
                built = list(index_actions(record, self.privacy, self.names.prefix))
            except Exception as exc:  # valid by the contract, yet the transform chokes: that record only
                log.warning("an activity record cannot be indexed: %s", type(exc).__name__)
                untransformable.append((m, PoisonMessage(f"cannot be indexed ({type(exc).__name__}: {exc})")))
                continue
            actions.extend(built)
            owners.extend([m] * len(built))
        if not actions:
            return untransformable
        try:
            response = self.es.bulk(operations=bulk_operations(actions))
        except (TransportError, ApiError) as exc:
            raise TransientFailure(f"bulk: {exc}") from exc
        rejected: dict[int, tuple[Message, PoisonMessage]] = {}
        for action, owner, item in zip(actions, owners, response["items"], strict=True):
            op = action["_op_type"]
            problem = item_problem(op, item[op])
            if problem == "retry":
                raise TransientFailure(f"bulk item {item[op].get('status')}: {item[op].get('error')}")
            if problem:
                rejected[id(owner)] = (owner, PoisonMessage(f"rejected by Elasticsearch: {problem}"))
        try:
            self.es.indices.refresh(index=self.names.events)  # the conversations below read these events
        except (TransportError, ApiError) as exc:
            raise TransientFailure(f"refresh: {exc}") from exc
        return untransformable + list(rejected.values())

    def _index_conversations(self, records: list[dict[str, Any]]) -> None:
        tickets_of: dict[str, set[int]] = {}
        for r in records:
            if r["type"] != "join":
                tickets_of.setdefault(r["conversation_id"], set()).update(
                    [r["ticket_id"]] if r["ticket_id"] is not None else []
                )
        ids = sorted(tickets_of)
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            events = self._related_events(set(chunk), {t for c in chunk for t in tickets_of[c]})
            groups, merged = merge_conversations(events)
            actions: list[dict[str, Any]] = []
            for conversation_id, docs in sorted(groups.items()):
                channel = docs[0]["channel_id"]
                doc = fold_conversation(docs, self.calendar_for(channel), self.bridge_actor_ids, conversation_id)
                if doc is not None:
                    actions.append(
                        {
                            "_op_type": "index",
                            "_index": self.names.conversations_index,
                            "_id": doc_id(conversation_id),
                            **doc,
                        }
                    )
            # An emailed ticket indexed before its thread's activity arrived is now part of the thread's.
            for conversation_id in sorted(merged):
                actions.append(
                    {"_op_type": "delete", "_index": self.names.conversations_index, "_id": doc_id(conversation_id)}
                )
            if not actions:
                continue
            try:
                response = self.es.bulk(operations=bulk_operations(actions), refresh=True)
            except (TransportError, ApiError) as exc:
                raise TransientFailure(f"bulk conversations: {exc}") from exc
            if response.get("errors"):
                problems = [
                    item
                    for entry in response["items"]
                    for op, item in entry.items()
                    if item.get("status", 500) >= 300 and not (op == "delete" and item.get("status") == 404)
                ]
                if problems:
                    # Our own documents against our own mapping: a rejection is a bug, not bad input;
                    # keep the offsets so that a fixed release indexes them.
                    raise TransientFailure(f"conversation documents rejected: {problems[:3]}")
            self.metrics.conversations.inc(sum(1 for a in actions if a["_op_type"] == "index"))

    def _related_events(self, conversation_ids: set[str], ticket_ids: set[int]) -> list[dict[str, Any]]:
        """Every event of the given conversations and of those they merge with (an emailed ticket's
        `zd:<ticket>` and the thread that carries the same ticket), read from the events alias."""
        wanted_conversations, wanted_tickets = set(conversation_ids), set(ticket_ids)
        read_conversations: set[str] = set()
        read_tickets: set[int] = set()
        found: dict[str, dict[str, Any]] = {}
        for _ in range(MERGE_ROUNDS):
            conversations = (wanted_conversations | {f"zd:{t}" for t in wanted_tickets}) - read_conversations
            emailed = {email_ticket(c) for c in wanted_conversations | read_conversations}
            tickets = {t for t in emailed if t is not None} - read_tickets
            if not conversations and not tickets:
                break
            should: list[dict[str, Any]] = []
            if conversations:
                should.append({"terms": {"conversation_id": sorted(conversations)}})
            if tickets:
                should.append({"terms": {"ticket_id": sorted(tickets)}})
            query = {"query": {"bool": {"should": should, "minimum_should_match": 1}}}
            try:
                for hit in helpers.scan(self.es, index=self.names.events, query=query, size=1000):
                    found[hit["_id"]] = hit["_source"]
            except (TransportError, ApiError, helpers.ScanError) as exc:
                raise TransientFailure(f"reading events: {exc}") from exc
            read_conversations |= conversations
            read_tickets |= tickets
            # A thread found through its ticket is read whole in the next round.
            wanted_conversations |= {d["conversation_id"] for d in found.values() if d["type"] != "join"}
            wanted_tickets |= {d["ticket_id"] for d in found.values() if d["ticket_id"] is not None}
        # Only conversations read whole make documents (a longer chain than MERGE_ROUNDS is not one
        # the router makes; the next flush touching it goes on from there).
        return [d for d in found.values() if d["conversation_id"] in read_conversations]

    def _dead_letter(self, message: Message, exc: PoisonMessage) -> None:
        with log_context(topic=message.topic(), partition=message.partition(), offset=message.offset()):
            log.error("dead-lettering a record: %s", exc.reason)
        letter = dead_letter(
            source_topic=message.topic() or self.topic,
            partition=message.partition(),
            offset=message.offset(),
            key=message.key(),
            value=message.value(),
            reason=exc.reason,
            error=exc,
            original_headers=_header_pairs(message.headers()),
            service=SERVICE,
        )
        try:
            self.dead_letters.send(letter)
        except Exception as send_error:
            raise TransientFailure(f"dead-letter topic: {send_error}") from send_error


def _header_pairs(
    headers: list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None,
) -> list[tuple[str, str | bytes | None]]:
    """confluent-kafka gives a record's headers as a list of pairs (a dict only when produced as one)."""
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)
