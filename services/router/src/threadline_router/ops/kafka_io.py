"""Kafka for threadline-ops: read a topic to its end (the links table, a dead-letter topic) and
send records where the services will find them.

Records for threadline.router.inbound are keyed by conversation id and must land on the
partition that owns the conversation's row: the router (aiokafka) partitions keys with murmur2,
as Java clients do, so the producer here does too (librdkafka's default would not).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from threadline_common.kafka import consumer_config, producer_config
from threadline_common.settings import KafkaSettings

# (key, value, headers, partition or None for the key's partition)
Record = tuple[bytes | None, bytes | None, list[tuple[str, str | bytes | None]], int | None]


class OpsError(Exception):
    """Something outside the command line is not as it should be (exit code 1)."""


class KafkaIO:
    def __init__(self, settings: KafkaSettings, timeout: float = 15.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._producer: Producer | None = None

    def _consumer(self) -> Consumer:
        return Consumer(
            consumer_config(
                self.settings,
                "threadline-ops",  # never subscribes nor commits: partitions are assigned by hand
                **{"enable.partition.eof": True, "isolation.level": "read_uncommitted"},
            )
        )

    def partitions(self, topic: str) -> list[int]:
        consumer = self._consumer()
        try:
            metadata = consumer.list_topics(topic, timeout=self.timeout)
        except KafkaException as exc:
            raise OpsError(f"cannot reach Kafka at {self.settings.bootstrap_servers}: {exc}") from exc
        finally:
            consumer.close()
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise OpsError(f"topic {topic} does not exist on {self.settings.bootstrap_servers}")
        return sorted(found.partitions)

    def end_offsets(self, topic: str) -> dict[int, int]:
        consumer = self._consumer()
        try:
            return {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=self.timeout)[1]
                for p in self.partitions(topic)
            }
        except KafkaException as exc:
            raise OpsError(f"cannot read the offsets of {topic}: {exc}") from exc
        finally:
            consumer.close()

    def offsets_at(self, topic: str, when: datetime) -> dict[int, int]:
        """Per partition, the first offset at or after `when` (the end when there is none)."""
        ms = int(when.timestamp() * 1000)
        ends = self.end_offsets(topic)
        consumer = self._consumer()
        try:
            found = consumer.offsets_for_times([TopicPartition(topic, p, ms) for p in ends], timeout=self.timeout)
        except KafkaException as exc:
            raise OpsError(f"cannot look up offsets by time in {topic}: {exc}") from exc
        finally:
            consumer.close()
        return {tp.partition: tp.offset if tp.offset >= 0 else ends[tp.partition] for tp in found}

    def read(self, topic: str, starts: dict[int, int] | None = None) -> Iterator[Message]:
        """Every record from `starts` (default: the beginning) up to the end the topic had when
        the read began, partition after partition in offset order."""
        ends = self.end_offsets(topic)
        begin = {p: (starts or {}).get(p, OFFSET_BEGINNING) for p in ends}
        todo = {p for p in ends if ends[p] > 0 and (begin[p] < 0 or begin[p] < ends[p])}
        if not todo:
            return
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(topic, p, begin[p]) for p in sorted(todo)])
            idle_since = time.monotonic()
            while todo:
                message = consumer.poll(0.5)
                if message is None:
                    if time.monotonic() - idle_since > self.timeout:
                        raise OpsError(f"reading {topic} stalled (partitions {sorted(todo)} not read to the end)")
                    continue
                idle_since = time.monotonic()
                partition = message.partition()
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        todo.discard(partition)
                        continue
                    raise OpsError(f"reading {topic}: {error}")
                if partition not in todo:
                    continue
                offset = message.offset() or 0
                if offset >= ends[partition]:
                    todo.discard(partition)
                    continue
                yield message
                if offset >= ends[partition] - 1:
                    todo.discard(partition)
        finally:
            consumer.close()

    def read_table(self, topic: str) -> dict[str, dict[str, Any]]:
        """The latest value of every key of a compacted JSON topic; a tombstone removes the key."""
        table: dict[str, dict[str, Any]] = {}
        for message in self.read(topic):
            key = (message.key() or b"").decode(errors="replace")
            value = message.value()
            if value is None:
                table.pop(key, None)
                continue
            row = json_object(value)
            if row is None:
                table.pop(key, None)  # not a conversation (any more): nothing an operator could act on
                continue
            table[key] = row
        return table

    def wait_for(
        self, topic: str, starts: dict[int, int], seen: Callable[[Message], bool], timeout: float
    ) -> Message | None:
        """The first record from `starts` on for which `seen` holds, or None after `timeout` seconds."""
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(topic, p, o) for p, o in starts.items()])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None or message.error() is not None:
                    continue
                if seen(message):
                    return message
            return None
        finally:
            consumer.close()

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(producer_config(self.settings, partitioner="murmur2_random"))
        return self._producer

    def send(
        self,
        topic: str,
        records: list[Record],
    ) -> None:
        """Send (key, value, headers, partition or None) records in order; return once Kafka has
        acknowledged every one, or raise."""
        errors: list[str] = []

        def delivered(err: KafkaError | None, _message: Message) -> None:
            if err is not None:
                errors.append(str(err))

        for key, value, headers, partition in records:
            extra: dict[str, Any] = {} if partition is None else {"partition": partition}
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers, on_delivery=delivered, **extra)
            except BufferError:
                self.producer.flush(self.timeout)
                self.producer.produce(topic, key=key, value=value, headers=headers, on_delivery=delivered, **extra)
            except KafkaException as exc:
                raise OpsError(f"cannot send to {topic}: {exc}") from exc
        remaining = self.producer.flush(self.timeout * 2)
        if remaining or errors:
            raise OpsError(f"{topic} did not acknowledge {remaining or len(errors)} records: {errors or 'timeout'}")


def json_object(value: bytes | None) -> dict[str, Any] | None:
    """A row's JSON object, or None for anything else (a tombstone, bytes that are not JSON, JSON
    nested too deep, an array): a bad row is skipped, never a crash of the command."""
    if value is None:
        return None
    try:
        data = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
