"""The indexing loop: decode -> documents -> batch by size and time -> bulk -> commit.

Offsets are committed only after the batch's events and the conversations they touch are in
Elasticsearch. While Elasticsearch is down or answers 429, the loop keeps the batch, pauses
its partitions (so the group membership stays alive without reading more) and tries again with
a growing pause: nothing is lost and nothing is committed. Records that can never be indexed
(undecodable, rejected by the mapping) go to the dead-letter topic, then their offsets are
committed like the rest.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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
    fold_conversation,
    index_actions,
    merge_conversations,
)
from threadline_reporter.folds import FOLD_FIELDS, FoldState, related_events
from threadline_reporter.indices import Names
from threadline_reporter.metrics import Metrics

log = logging.getLogger(__name__)
SERVICE = "reporter"
# One bulk request per flush at the default batch (1,000 records and their conversations). Two
# requests side by side (parallel_bulk) were tried: on two cores shared with the reporter's own
# Python and Kafka, Elasticsearch had no idle core to give them, and the helper's thread pool a
# flush cost more than it saved.
BULK_CHUNK = 2000
BULK_CHUNK_BYTES = 20 * 1024 * 1024
# Only what maps an item to its record: the answer to 2,000 actions is ~60 kB instead of ~500 kB.
BULK_ANSWER = "errors,items.*.status,items.*.error"
READ_SIZE = 5000


class TransientFailure(TransientError):
    """Elasticsearch (or the dead-letter topic) did not take the batch; try the same batch again."""


@dataclass
class Prepared:
    """A batch made into bulk actions: events (one or two a record, `owners` says whose), then
    the conversation documents they change."""

    batch: list[Message]
    actions: list[dict[str, Any]] = field(default_factory=list)
    owners: list[Message] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    event_of: dict[int, tuple[str, str]] = field(default_factory=dict)  # id(record) -> (conversation, event _id)
    poison: list[tuple[Message, PoisonMessage]] = field(default_factory=list)
    ordered: bool = False  # events, refresh, conversations, refresh (caught up); else one bulk, no refresh


@dataclass
class Outcome:
    """What Elasticsearch refused of a bulk: records (with the reason), the _ids of their refused
    event documents, and conversation documents (their conversation ids, with the reason)."""

    refused: list[tuple[Message, PoisonMessage]] = field(default_factory=list)
    unindexed: set[str] = field(default_factory=set)
    conversations_refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Inflight:
    prepared: Prepared
    future: Future[Outcome]


def expand_action(action: bytes | str | dict[str, Any]) -> tuple[dict[str, Any], bytes | dict[str, Any] | None]:
    """An action of ours -> its bulk metadata line and its body, as the helper's expand_action
    makes them. Ours carry only `_op_type`, `_index` and `_id` (documents.index_actions, the
    conversation documents): the helper's own copies each action and looks for twenty other
    metadata keys, half of the sender thread's Python in the indexing bench's profile."""
    if not isinstance(action, dict):
        return helpers.expand_action(action)
    op = action["_op_type"]
    meta = {op: {"_index": action["_index"], "_id": action["_id"]}}
    if op == "delete":
        return meta, None
    if op == "update":
        return meta, {"doc": action["doc"]}
    body = dict(action)
    del body["_op_type"], body["_index"], body["_id"]
    return meta, body


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
        batch_size: int = 1000,
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
        self.folds = FoldState()
        self._refresh_before_reading = True
        self._drain_first = False  # the fold state was cleared: no read-back while a bulk is in flight
        self._refolded = False  # a settled bulk changed the fold state under a prepared batch
        self._inflight: Inflight | None = None
        self._caught_up = False
        # The last batch dispatched was full: the reader was behind. Once it has read to the end,
        # what is left goes at once instead of waiting out batch_seconds (the tail of a catch-up,
        # a replay, the end of an outage); records that trickle in afterwards are batched by time.
        self._behind = False
        self.ready = threading.Event()

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        # Offsets are committed without waiting for the broker's answer (the next batch is not held
        # up by it; Kafka applies a group's commits in order); a failed commit is only logged: its
        # records are read and indexed again, to the same documents.
        consumer = Consumer({**self.consumer_config, "on_commit": _commit_failed})
        consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke)
        log.info("indexing %s into %s*", self.topic, self.names.prefix)
        sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-bulk")
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                # A batch's worth at a time: one poll a record cost more than decoding it.
                wanted = max(1, self.batch_size - len(self.batch))
                messages = consumer.consume(wanted, 0.01 if self._inflight else 0.2)
                self._caught_up = len(messages) < wanted  # nothing more waiting, for now
                for message in messages:
                    self._take(message)
                if self._inflight is not None and self._inflight.future.done():
                    self._complete(consumer, stop)
                if self._caught_up and not self.batch and self._inflight is None:
                    self._behind = False  # the backlog is done: what comes next waits for its batch
                self._gauge()
                due = self.batch and (
                    len(self.batch) >= self.batch_size
                    or time.monotonic() - self.first_at >= self.batch_seconds
                    or (self._behind and self._caught_up and self._inflight is None)
                )
                if due:
                    self._dispatch(consumer, stop, sender)
            self._flush_before_stopping(consumer, stop)
        finally:
            sender.shutdown(wait=True)
            consumer.close()

    def _gauge(self) -> None:
        """Records read and not yet committed: waiting for a flush, or in the bulk in flight."""
        flying = len(self._inflight.prepared.batch) if self._inflight is not None else 0
        self.metrics.batch_size.set(len(self.batch) + flying)

    def _dispatch(self, consumer: Consumer, stop: threading.Event, sender: ThreadPoolExecutor) -> None:
        """Prepare the waiting batch (decode, documents, folds: CPU) while the previous one's bulk is
        in flight (Elasticsearch's work), then send it once the previous one is committed: one bulk in
        flight at a time, so batches reach Elasticsearch and offsets are committed in order."""
        if self._drain_first:  # the fold state was cleared: read nothing back while a bulk is in flight
            if not self._complete(consumer, stop):
                return
            self._drain_first = False
        batch, self.batch = self.batch, []
        try:
            prepared = self._prepare(batch)
        except TransientFailure:
            # Elasticsearch did not answer the read-back: the batch waits, retried with the rest.
            self.batch = batch + self.batch
            if self._complete(consumer, stop):
                self._flush_until_done(consumer, stop)
            return
        if not self._complete(consumer, stop):
            self.batch = batch + self.batch
            return
        if self._refolded:
            # The bulk before it refused events this batch's folds counted: fold again without them.
            self._refolded = False
            try:
                prepared.conversations = self._conversation_actions(prepared.touched)
            except TransientFailure:
                self.batch = batch + self.batch
                self._flush_until_done(consumer, stop)
                return
        prepared.ordered = self._caught_up
        self._behind = len(batch) >= self.batch_size
        self._inflight = Inflight(prepared, sender.submit(self._send, prepared))

    def _complete(self, consumer: Consumer, stop: threading.Event) -> bool:
        """Wait for the bulk in flight; on a failure Elasticsearch may get over (an outage, 429),
        send it again with the partitions paused until it is taken. Then its dead letters, and its
        offsets. False if stopping first: its records go back to the front of what is waiting, so
        nothing after them is committed before them."""
        inflight, self._inflight = self._inflight, None
        if inflight is None:
            return True
        prepared = inflight.prepared
        try:
            self._settle(prepared, inflight.future.result())
        except TransientFailure as exc:
            self.metrics.flushes.labels("retry").inc()
            log.warning("flush failed (%s); retrying", exc)
            if not self._retrying(consumer, stop, lambda: self._settle(prepared, self._send(prepared))):
                self.batch = prepared.batch + self.batch
                return False
        self.metrics.flushes.labels("ok").inc()
        self._commit(consumer, prepared.batch)
        return True

    def _flush_before_stopping(self, consumer: Consumer, stop: threading.Event) -> None:
        """One last attempt at what is waiting, so that a stop (a rollout, SIGTERM) leaves nothing
        for the next owner to read again; if Elasticsearch refuses it, the offsets stay uncommitted."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            try:
                self._settle(inflight.prepared, inflight.future.result())
            except TransientFailure:
                self.batch = inflight.prepared.batch + self.batch
            else:
                self.metrics.flushes.labels("ok").inc()
                self._commit(consumer, inflight.prepared.batch, wait=True)
                if not self.batch and not inflight.prepared.ordered:
                    with contextlib.suppress(TransientFailure):  # searchable within a second anyway
                        self._refresh(self.names.events)
                        self._refresh(self.names.conversations)
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
        self._commit(consumer, batch, wait=True)
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
        # What another owner indexed meanwhile is not in the fold state: read it again on a miss.
        self.folds.clear()
        self._refresh_before_reading = self._drain_first = True
        self.ready.set()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Records of partitions that moved elsewhere are not ours to commit; their new owner reads
        # them again from the last committed offset (documents are overwritten, not duplicated).
        gone = {(p.topic, p.partition) for p in partitions}
        self.batch = [m for m in self.batch if (m.topic(), m.partition()) not in gone]
        self.folds.clear()
        self._drain_first = True

    def _flush_until_done(self, consumer: Consumer, stop: threading.Event) -> None:
        """Flush what is waiting, synchronously, retrying a batch Elasticsearch did not take (the
        shared retry policy) with the partitions paused; nothing is committed until it is taken."""
        batch: list[Message] = []

        def attempt() -> None:
            # What is waiting now: a pause may have taken records in, or a revocation some away.
            batch[:] = self.batch
            self.flush(list(batch))

        while self.batch and not stop.is_set():
            if not self._retrying(consumer, stop, attempt):
                return  # stopping: the batch stays uncommitted, for the next reader
            self.metrics.flushes.labels("ok").inc()
            self._commit(consumer, batch)
            done = {id(m) for m in batch}
            self.batch = [m for m in self.batch if id(m) not in done]
            if self.batch:
                self.first_at = time.monotonic()

    def _retrying(self, consumer: Consumer, stop: threading.Event, attempt: Callable[[], object]) -> bool:
        """Run `attempt` until Elasticsearch takes it (the shared retry policy), the partitions paused
        meanwhile; False if stopping first."""
        paused: list[TopicPartition] = []

        def on_retry(failed: Attempt) -> None:
            nonlocal paused
            self.metrics.flushes.labels("retry").inc()
            log.warning("flush failed (%s); retrying in %.1fs", failed.error, failed.pause)
            if not paused:
                paused = list(consumer.assignment())
                consumer.pause(paused)

        try:
            self.retry.run_sync(
                attempt, on_retry, sleep=lambda seconds: self._wait(consumer, stop, seconds), until=stop.is_set
            )
        except TransientFailure:
            return False
        finally:
            if paused:
                consumer.resume(consumer.assignment())
        return True

    def _wait(self, consumer: Consumer, stop: threading.Event, seconds: float) -> None:
        """Pause while still polling: the group keeps us, and a rebalance is handled meanwhile."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            self.heartbeat.beat()
            message = consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
            if message is not None:
                self._take(message)  # from a partition assigned during the pause

    def _commit(self, consumer: Consumer, batch: list[Message], wait: bool = False) -> None:
        """Commit past the batch's records; `wait`: for the broker's answer (when stopping: the last
        commit must be made before the consumer closes)."""
        offsets: dict[tuple[str, int], int] = {}
        owned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        for m in batch:
            key = (m.topic() or self.topic, m.partition() or 0)
            if key not in owned:
                continue  # revoked while its bulk was in flight: its new owner reads it again
            offsets[key] = max(offsets.get(key, -1), m.offset() or 0)
        if not offsets:
            return
        try:
            positions = [TopicPartition(t, p, o + 1) for (t, p), o in offsets.items()]
            if wait:
                consumer.commit(offsets=positions, asynchronous=False)
            else:
                consumer.commit(offsets=positions, asynchronous=True)
        except KafkaException as exc:
            # A rebalance took the partition: its new owner reindexes from the last commit, harmlessly.
            log.warning("commit failed (%s); the records will be indexed again", exc)

    # --- one flush ------------------------------------------------------------------------

    def flush(self, batch: list[Message]) -> None:
        """One batch, synchronously: prepared, sent (made searchable), settled."""
        prepared = self._prepare(batch)
        prepared.ordered = True
        self._settle(prepared, self._send(prepared))

    def _prepare(self, batch: list[Message]) -> Prepared:
        """The batch's bulk actions: its events, and the conversation documents they change, folded
        from the fold state (folds.py) rather than read back: no refresh, no search of what was just
        written. Undecodable records are set aside for the dead-letter topic."""
        prepared = Prepared(batch)
        for m in batch:
            try:
                record = decode_activity(m.value())
            except PoisonMessage as bad:
                prepared.poison.append((m, bad))
                continue
            try:
                built = list(index_actions(record, self.privacy, self.names.prefix))
            except Exception as exc:  # valid by the contract, yet the transform chokes: that record only
                log.warning("an activity record cannot be indexed: %s", type(exc).__name__)
                prepared.poison.append((m, PoisonMessage(f"cannot be indexed ({type(exc).__name__}: {exc})")))
                continue
            prepared.actions.extend(built)
            prepared.owners.extend([m] * len(built))
            event = built[0]
            if record["type"] != "join":
                prepared.touched.setdefault(record["conversation_id"], {})[event["_id"]] = event
                prepared.event_of[id(m)] = (record["conversation_id"], event["_id"])
        prepared.conversations = self._conversation_actions(prepared.touched)
        return prepared

    def _send(self, prepared: Prepared) -> Outcome:
        """One bulk stream of the batch's events and conversation documents (in the sender thread:
        only HTTP, no fold state). Anything Elasticsearch may take later (429, 5xx, an outage)
        raises TransientFailure, for the whole batch to be sent again with nothing committed."""
        if not prepared.ordered:
            outcome = self._bulk(prepared.actions + prepared.conversations, prepared.owners)
        else:
            # Caught up (or stopping): nothing is refreshed under load, but once the stream is read to
            # its end what was written is made searchable at once, the events before the conversation
            # documents folded from them (a conversation that can be found has its events found too).
            outcome = self._bulk(prepared.actions, prepared.owners)
            self._refresh(self.names.events)
            outcome.conversations_refused += self._bulk(prepared.conversations, []).conversations_refused
            self._refresh(self.names.conversations)
        if outcome.conversations_refused and not outcome.refused:
            # Our own documents against our own mapping: a rejection is a bug, not bad input; keep
            # the offsets so that a fixed release indexes them. (With refused events, it is their
            # value in the fold: _settle folds those conversations again without them.)
            raise TransientFailure(f"conversation documents rejected: {outcome.conversations_refused[:3]}")
        return outcome

    def _refresh(self, index: str) -> None:
        try:
            self.es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
        except (TransportError, ApiError) as exc:
            raise TransientFailure(f"refresh: {exc}") from exc

    def _settle(self, prepared: Prepared, outcome: Outcome) -> None:
        """After the bulk: a record whose document Elasticsearch refused goes to the dead-letter topic
        with the reason (its conversations are folded again without it); the stream goes on."""
        if outcome.refused:
            # An event Elasticsearch refused was never indexed: fold its conversation again without it
            # (the documents are what a fold of the indexed events gives, as a rebuild would make them).
            again: dict[str, dict[str, dict[str, Any]]] = {c: {} for c, _ in outcome.conversations_refused}
            for m, _ in outcome.refused:
                if id(m) in prepared.event_of and prepared.event_of[id(m)][1] in outcome.unindexed:
                    conversation_id, _id = prepared.event_of[id(m)]
                    self.folds.discard(conversation_id, [_id])
                    again.setdefault(conversation_id, {})
            if again:
                self._refolded = True
                problems = self._bulk(self._conversation_actions(again), []).conversations_refused
                if problems:
                    raise TransientFailure(f"conversation documents rejected: {problems[:3]}")
                if prepared.ordered:
                    self._refresh(self.names.conversations)
        poison = prepared.poison + outcome.refused
        for m, letter in poison:
            self._dead_letter(m, letter)
        self.metrics.records.labels("indexed").inc(len(prepared.batch) - len(poison))
        self.metrics.records.labels("dead_lettered").inc(len(poison))

    def _bulk(self, actions: list[dict[str, Any]], owners: list[Message]) -> Outcome:
        """Stream the actions with the client's bulk helper (`owners`: the record of each action;
        actions past them are conversation documents); what Elasticsearch refused."""
        outcome = Outcome()
        if not actions:
            return outcome
        refused: dict[int, tuple[Message, PoisonMessage]] = {}
        again_later: str | None = None
        written = 0
        results = helpers.streaming_bulk(
            self.es,
            actions,
            chunk_size=BULK_CHUNK,
            max_chunk_bytes=BULK_CHUNK_BYTES,
            raise_on_error=False,  # each item's outcome is ours to map to its record
            raise_on_exception=True,
            max_retries=0,  # the loop retries the whole batch, with the partitions paused
            filter_path=BULK_ANSWER,
            expand_action_callback=expand_action,
        )
        try:
            for n, (_, entry) in enumerate(results):  # read to the end: the helper closes its span
                action = actions[n]
                op = action["_op_type"]
                item = entry[op]
                problem = item_problem(op, item)
                if problem == "retry":
                    again_later = again_later or f"bulk item {item.get('status')}: {item.get('error')}"
                elif n >= len(owners):  # a conversation document
                    if problem and not (op == "delete" and item.get("status") == 404):
                        outcome.conversations_refused.append((action.get("conversation_id", action["_id"]), problem))
                    written += op == "index" and not problem
                elif problem:
                    owner = owners[n]
                    refused[id(owner)] = (owner, PoisonMessage(f"rejected by Elasticsearch: {problem}"))
                    if op == "index":
                        outcome.unindexed.add(action["_id"])
        except (TransportError, ApiError) as exc:
            raise TransientFailure(f"bulk: {exc}") from exc
        if again_later:
            raise TransientFailure(again_later)
        self.metrics.conversations.inc(written)
        outcome.refused = list(refused.values())
        return outcome

    def _conversation_actions(self, touched: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The conversation documents a batch changes (and the deletions of emailed tickets now part
        of their thread's), folded from every event of each, kept or read (folds.related_events)."""
        if not touched:
            return []
        events = related_events(self.folds, touched, self._read_events)
        groups, merged = merge_conversations(events)
        actions: list[dict[str, Any]] = []
        for conversation_id, docs in sorted(groups.items()):
            channel = docs[0]["channel_id"]
            doc = fold_conversation(docs, self.calendar_for(channel), self.bridge_actor_ids, conversation_id)
            if doc is not None:
                index, _id = self.names.conversations_index, doc_id(conversation_id)
                actions.append({"_op_type": "index", "_index": index, "_id": _id, **doc})
        # An emailed ticket indexed before its thread's activity arrived is now part of the thread's.
        for conversation_id in sorted(merged):
            actions.append(
                {"_op_type": "delete", "_index": self.names.conversations_index, "_id": doc_id(conversation_id)}
            )
        return actions

    def _read_events(self, conversation_ids: set[str], ticket_ids: set[int]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Event documents of the given conversations, or with the given tickets, from the events
        alias: what the fold state does not hold (a miss, or a conversation it does not own)."""
        if self._refresh_before_reading:
            # After a (re)assignment the previous owner's last writes may not be searchable yet:
            # once, not per flush.
            self._refresh(self.names.events)
            self._refresh_before_reading = False
        should: list[dict[str, Any]] = []
        if conversation_ids:
            should.append({"terms": {"conversation_id": sorted(conversation_ids)}})
        if ticket_ids:
            should.append({"terms": {"ticket_id": sorted(ticket_ids)}})
        if not should:
            return
        query = {"bool": {"should": should, "minimum_should_match": 1}}
        fields = list(FOLD_FIELDS)
        try:
            # One request when it all fits (it nearly always does: a batch's new conversations),
            # a scroll through the lot when not.
            found = self.es.search(
                index=self.names.events, query=query, source_includes=fields, size=READ_SIZE, ignore_unavailable=True
            )["hits"]
            if len(found["hits"]) < READ_SIZE:
                hits = iter(found["hits"])
            else:
                body = {"query": query, "_source": fields}
                hits = helpers.scan(self.es, index=self.names.events, query=body, size=1000, ignore_unavailable=True)
            for hit in hits:
                yield hit["_id"], hit["_source"]
        except (TransportError, ApiError, helpers.ScanError) as exc:
            raise TransientFailure(f"reading events: {exc}") from exc

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


def _commit_failed(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    if error is not None:
        # A rebalance took the partition: its new owner reindexes from the last commit, harmlessly.
        log.warning("commit failed (%s); the records will be indexed again", error)


def _header_pairs(
    headers: list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None,
) -> list[tuple[str, str | bytes | None]]:
    """confluent-kafka gives a record's headers as a list of pairs (a dict only when produced as one)."""
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)
