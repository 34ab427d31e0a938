"""What is on the broker, for tests and the bench to synchronise on: records in a topic, a
consumer group's lag (committed offsets against the partitions' ends), and whether a set of
groups has settled (everything consumed, nothing more on its way)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping

from confluent_kafka import Consumer, KafkaException, TopicPartition


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


class GroupLag:
    """A consumer group's lag read again and again through one connection (no subscription: the
    group is not joined), for a watcher that must see a short-lived lag; close() when done."""

    def __init__(self, bootstrap: str, group: str, topics: Iterable[str]) -> None:
        self._consumer = _consumer(bootstrap, group)
        self._partitions = [p for topic in topics for p in _partitions(self._consumer, topic)]

    def now(self) -> int:
        # A broker that is still loading its group offsets (a fresh one, or a group just made)
        # answers NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS: retriable, so asked again.
        for _ in range(50):
            try:
                return self._lag()
            except KafkaException as exc:
                if not exc.args[0].retriable():
                    raise
                self._consumer.poll(0.1)  # librdkafka looks the coordinator up again meanwhile
        return self._lag()

    def _lag(self) -> int:
        lag = 0
        for committed in self._consumer.committed(self._partitions, timeout=10):
            low, high = self._consumer.get_watermark_offsets(committed, timeout=10, cached=False)
            position = committed.offset if committed.offset >= 0 else low
            lag += max(0, high - position)
        return lag

    def close(self) -> None:
        self._consumer.close()


def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Records of `topics` that consumer group `group` has not committed yet (a partition it never
    committed counts whole)."""
    lag = GroupLag(bootstrap, group, topics)
    try:
        return lag.now()
    finally:
        lag.close()


def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """Each partition's high watermark: where the next record of `topics` will be written."""
    consumer = _consumer(bootstrap)
    try:
        ends = {}
        for topic in topics:
            for partition in _partitions(consumer, topic):
                ends[(topic, partition.partition)] = consumer.get_watermark_offsets(partition, timeout=10)[1]
        return ends
    finally:
        consumer.close()


def _behind(bootstrap: str, group: str, ends: dict[tuple[str, int], int]) -> dict[tuple[str, int], tuple[int, int]]:
    """The partitions `group` has not committed up to `ends`: (topic, partition) -> (committed, end)."""
    consumer = _consumer(bootstrap, group)
    try:
        partitions = [TopicPartition(topic, partition) for topic, partition in ends]
        behind = {}
        for committed in consumer.committed(partitions, timeout=10):
            end = ends[(committed.topic, committed.partition)]
            offset = committed.offset
            if offset < 0:  # never committed: caught up only if the partition was always empty
                offset = consumer.get_watermark_offsets(committed, timeout=10)[0]
            if offset < end:
                behind[(committed.topic, committed.partition)] = (committed.offset, end)
        return behind
    finally:
        consumer.close()


def _committed_through(bootstrap: str, group: str, ends: dict[tuple[str, int], int]) -> bool:
    return not _behind(bootstrap, group, ends)


def caught_up(bootstrap: str, group: str, topics: Iterable[str], ends: dict[tuple[str, int], int]) -> bool:
    """True when `group` has committed, on each partition of `topics`, at least to `ends` (an
    earlier end_offsets): it handled everything written before then, whatever came after. What a
    test waits for where records never stop coming (timers), so the topics never fall quiet."""
    wanted = set(topics)
    return _committed_through(bootstrap, group, {tp: end for tp, end in ends.items() if tp[0] in wanted})


def settled(bootstrap: str, groups: Mapping[str, Iterable[str]], idle: Callable[[], bool] = lambda: True) -> bool:
    """True when every group in `groups` (group id -> the topics it consumes) has committed every
    record of its topics, `idle` (e.g. "every webhook the doubles owe is delivered") says nothing
    is on its way from outside Kafka, and no record was written to those topics meanwhile.

    A fixed point, for negative claims ("no duplicate was made"): the services commit a record only
    after what it caused is done (their output on Kafka, their calls to Slack or Zendesk made), so
    once this holds, nothing that could still cause an effect is left anywhere."""
    wanted = {group: list(topics) for group, topics in groups.items()}
    ends = end_offsets(bootstrap, {t for topics in wanted.values() for t in topics})
    for group, topics in wanted.items():
        mine = {key: end for key, end in ends.items() if key[0] in topics}
        if not _committed_through(bootstrap, group, mine):
            return False
    return bool(idle()) and end_offsets(bootstrap, {topic for topic, _ in ends}) == ends


def unsettled(bootstrap: str, groups: Mapping[str, Iterable[str]]) -> dict[str, dict[tuple[str, int], tuple[int, int]]]:
    """What keeps `settled` false on Kafka's side: per group, each partition not committed to its
    end, as (committed, end). For a test's failure message."""
    report = {}
    for group, topics in groups.items():
        behind = _behind(bootstrap, group, end_offsets(bootstrap, topics))
        if behind:
            report[group] = behind
    return report
