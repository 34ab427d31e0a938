"""Reading a topic to its end, for tests: what a synchronisation on consumer-group state (see
threadline_devstack.kafka_state) makes certain is all there is."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition


def read_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Message]:
    """Every record on `topic` now, in partition-offset order: reads each partition to its high
    watermark (ingest answers 200 only once the broker has a record; a service, once its consumer group has
    committed past what caused them, has written its records: no waiting is needed)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "threadline-tests-reader", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends: dict[int, int] = {}
        assignment = []
        for partition in partitions:
            low, high = watermarks(consumer, TopicPartition(topic, partition), timeout)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        records: list[Message] = []
        deadline = time.monotonic() + timeout
        while ends:
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            records.append(message)
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        return sorted(records, key=lambda m: (m.partition(), m.offset()))
    finally:
        consumer.close()


def watermarks(consumer: Consumer, partition: TopicPartition, timeout: float) -> tuple[int, int]:
    """A fresh topic's partitions may not have a leader yet: ask again until they do."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=10)
            return int(low), int(high)
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
