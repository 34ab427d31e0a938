"""`make demo`: start the local stack, send one real example through every topic, show what
arrived, and stop what this run started."""

from __future__ import annotations

import json
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

from threadline_common.contracts import load_topics
from threadline_common.schemas import examples
from threadline_devstack import infra


def _summary(payload: dict[str, object]) -> str:
    for key in ("type", "kind"):
        if key in payload:
            return f"{key}={payload[key]}"
    return ", ".join(list(payload)[:3])


def main() -> int:
    kafka_was_running = infra.local_kafka().process.alive()
    stack = infra.up()
    try:
        bootstrap = stack["kafka_bootstrap"]
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
        sent: dict[str, str] = {}
        for spec in load_topics():
            if spec.latest.type != "json":
                continue
            path, payload = next(examples(spec.name, spec.latest.version))
            producer.produce(spec.name, key=b"demo", value=json.dumps(payload).encode())
            sent[spec.name] = path.name
        producer.flush(30)
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"demo-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "latest",
            }
        )
        # Read back only what this run sent: from each partition's end minus what arrived.
        consumer.subscribe(list(sent), on_assign=_rewind)
        got: dict[str, dict[str, object]] = {}
        for _ in range(60):
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None and msg.key() == b"demo":
                got[str(msg.topic())] = json.loads(msg.value() or b"{}")
            if len(got) == len(sent):
                break
        consumer.close()
        print("\nOne example through every topic of schemas/:")
        for topic, example in sent.items():
            payload = got.get(topic)
            shown = _summary(payload) if payload else "NOT RECEIVED"
            print(f"  {topic:28} <- {example:52} {shown}")
        print(f"\nElasticsearch {infra.es_version(stack['elasticsearch_url'])} at {stack['elasticsearch_url']}")
        return 0 if len(got) == len(sent) else 1
    finally:
        if not kafka_was_running:
            infra.down()


def _rewind(consumer: Consumer, partitions: list[TopicPartition]) -> None:
    for tp in partitions:
        low, high = consumer.get_watermark_offsets(tp, timeout=10)
        tp.offset = max(low, high - 1)
    consumer.assign(partitions)


if __name__ == "__main__":
    sys.exit(main())
