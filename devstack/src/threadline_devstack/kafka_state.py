"""What is on the broker, for tests and the bench to synchronise on: records in a topic and a
consumer group's lag (committed offsets against the partitions' ends)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, TopicPartition


def _consumer(bootstrap: str, group: str | None = None) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"threadline-state-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )


def _partitions(consumer: Consumer, topic: str) -> list[TopicPartition]:
    metadata = consumer.list_topics(topic, timeout=10)
    return [TopicPartition(topic, p) for p in sorted(metadata.topics[topic].partitions)]


def record_count(bootstrap: str, topic: str) -> int:
    """Records in a topic: the sum of its partitions' high watermarks less their low ones."""
    consumer = _consumer(bootstrap)
    try:
        total = 0
        for partition in _partitions(consumer, topic):
            low, high = consumer.get_watermark_offsets(partition, timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Records of `topics` that consumer group `group` has not committed yet (a partition it never
    committed counts whole)."""
    consumer = _consumer(bootstrap, group)
    try:
        partitions = [p for topic in topics for p in _partitions(consumer, topic)]
        lag = 0
        for committed in consumer.committed(partitions, timeout=10):
            low, high = consumer.get_watermark_offsets(committed, timeout=10)
            position = committed.offset if committed.offset >= 0 else low
            lag += max(0, high - position)
        return lag
    finally:
        consumer.close()
