"""Activity from the real broker into the real Elasticsearch node: documents, dead letters,
replays, and an Elasticsearch outage."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from elasticsearch import Elasticsearch

from threadline_common.dlq import dlq_reason
from threadline_devstack.infra import free_port
from threadline_reporter.documents import doc_id
from threadline_reporter.indexer import Indexer
from threadline_reporter.indices import ensure_indices

from .conftest import produce, wait_until

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "threadline.activity" / "1"
THREAD = "T0001:C0SUPPORT:1700000000.000100"


def examples() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]


def snapshot(es: Elasticsearch, index: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=1000, query={"match_all": {}})["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def indexed(es: Elasticsearch, prefix: str, events: int, conversations: int) -> bool:
    try:
        return (
            es.count(index=f"{prefix}events")["count"] >= events
            and es.count(index=f"{prefix}conversations")["count"] >= conversations
        )
    except Exception:
        return False


def committed(bootstrap: str, group: str, topic: str) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in consumer.committed([TopicPartition(topic, p) for p in (0, 1)], timeout=10)]
    finally:
        consumer.close()


def test_examples_become_event_and_conversation_documents(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    produce(kafka_bootstrap, kafka_topics.activity, [*examples(), b"\x00 not an activity"])
    service = make_service(text_mode="keep", hash_salt="pepper-for-tests").start()
    wait_until("13 events and 2 conversations", lambda: indexed(es, es_index_prefix, 13, 2))

    message = es.get(index=f"{es_index_prefix}events-2023.11", id=doc_id("slack:C0SUPPORT:1700000000.000100"))
    assert message["_source"]["text"] == "Printer on fire"
    assert message["_source"]["occurred_at"] == "2023-11-14T22:13:20.000100Z"
    # 02 was edited (10) and then deleted (11): its text is gone from the index.
    reply = es.get(index=f"{es_index_prefix}events-2023.11", id=doc_id("slack:C0SUPPORT:1700000000.000200"))
    assert reply["_source"]["text"] is None and reply["_source"]["deleted"] is True
    assert reply["_source"]["edited"] is True

    conv = es.get(index=f"{es_index_prefix}conversations", id=doc_id(THREAD))["_source"]
    assert conv["status"] == "solved" and conv["is_open"] is False and conv["ticket_id"] == 4017
    assert conv["first_responder_id"] == "U0SRE"
    assert conv["opened_at"] == "2023-11-14T22:13:20.000Z"
    assert conv["time_to_first_response_seconds"] == pytest.approx(0.0001, abs=0.001)
    email = es.get(index=f"{es_index_prefix}conversations", id=doc_id("zd:4020"))["_source"]
    assert email["source"] == "email" and email["status"] == "new" and email["first_response_at"] is None
    assert email["requester"]["email_hash"].startswith("sha256:") and email["tags"] == ["vpn"]
    events = snapshot(es, f"{es_index_prefix}events")
    assert not any("dana@example.com" in json.dumps(doc) for doc in events.values())

    # The garbage record went to the dead-letter topic with its reason, and every offset is committed.
    dlq = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "dlq-check", "auto.offset.reset": "earliest"})
    dlq.subscribe([kafka_topics.dlq(kafka_topics.ACTIVITY)])
    letter = wait_until("the dead letter", lambda: dlq.poll(0.5))
    dlq.close()
    assert letter.value() == b"\x00 not an activity"
    assert "not JSON" in dlq_reason(letter.headers())["reason"]
    service.close()
    assert sum(committed(kafka_bootstrap, service.settings.group_id, kafka_topics.activity)) == 14


def test_replaying_into_empty_indices_gives_identical_documents(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    produce(kafka_bootstrap, kafka_topics.activity, examples())
    first = make_service().start()
    wait_until("the documents", lambda: indexed(es, es_index_prefix, 13, 2))
    reports_before = figures(first)
    first.close()
    before = (snapshot(es, f"{es_index_prefix}events"), snapshot(es, f"{es_index_prefix}conversations"))

    es.indices.delete(index=f"{es_index_prefix}events-*,{es_index_prefix}conversations-*")
    rebuilt = make_service(group_id=f"{first.settings.group_id}-replay").start()
    wait_until("the rebuilt documents", lambda: indexed(es, es_index_prefix, 13, 2))
    after = (snapshot(es, f"{es_index_prefix}events"), snapshot(es, f"{es_index_prefix}conversations"))
    assert after == before
    # And the figures made from them: every daily and weekly report the examples fall in.
    assert figures(rebuilt) == reports_before
    assert reports_before["daily"]["figures"]["opened"] >= 1


def figures(service) -> dict:
    """The examples' daily and weekly reports of #support (their day: 2023-11-14, UTC)."""
    day = dt.date(2023, 11, 14)
    return {kind: service.reporter.build(kind, "C0SUPPORT", day).to_json() for kind in ("daily", "weekly")}


def test_the_tail_of_a_backlog_is_indexed_at_once_not_after_the_batch_time(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    """A reporter that was behind (full batches) and has read to the end sends what is left at
    once: after an outage or a replay, the last records are searchable without waiting out
    batch_seconds (a minute here)."""
    produce(kafka_bootstrap, kafka_topics.activity, examples())
    service = make_service(batch_size=4, batch_seconds=60)
    service.start()
    wait_until("all 13 events and both conversations", lambda: indexed(es, es_index_prefix, 13, 2), timeout=30)
    wait_until(
        "every offset committed",
        lambda: sum(committed(kafka_bootstrap, service.settings.group_id, kafka_topics.activity)) == 13,
        timeout=30,
    )


def test_an_elasticsearch_outage_loses_nothing_and_commits_nothing(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    produce(kafka_bootstrap, kafka_topics.activity, examples())
    service = make_service()  # built, not started: its parts are run by hand below
    ensure_indices(es, service.names)
    down = Elasticsearch(f"http://127.0.0.1:{free_port()}", request_timeout=2, max_retries=0)

    def indexer(client: Elasticsearch) -> Indexer:
        parts = vars(service.indexer) | {"es": client}
        keep = Indexer.__init__.__code__.co_varnames[1 : Indexer.__init__.__code__.co_kwonlyargcount + 1]
        return Indexer(**{k: parts[k] for k in keep})

    stop = threading.Event()
    failing = indexer(down)
    thread = threading.Thread(target=failing.run, args=(stop,), daemon=True)
    thread.start()
    retries = service.metrics.flushes.labels("retry")
    wait_until("three failed flushes", lambda: retries._value.get() >= 3)
    stop.set()
    thread.join(30)
    assert committed(kafka_bootstrap, service.settings.group_id, kafka_topics.activity) == [-1001, -1001]
    assert es.count(index=f"{es_index_prefix}events-*")["count"] == 0

    stop = threading.Event()
    healthy = indexer(es)
    thread = threading.Thread(target=healthy.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until("every document after the outage", lambda: indexed(es, es_index_prefix, 13, 2))
        wait_until(
            "every offset committed",
            lambda: sum(committed(kafka_bootstrap, service.settings.group_id, kafka_topics.activity)) == 13,
        )
    finally:
        stop.set()
        thread.join(30)


def test_indices_of_an_earlier_release_get_the_fields_added_since(es, es_index_prefix):
    """An upgrade keeps its indices: a field added to a strict mapping is added to them at start,
    or every conversation document would be refused from then on."""
    from threadline_reporter.indices import CONVERSATION_MAPPING, Names

    names = Names(es_index_prefix)
    earlier = {**CONVERSATION_MAPPING, "properties": dict(CONVERSATION_MAPPING["properties"])}
    del earlier["properties"]["conversation_ids"]
    es.indices.create(index=names.conversations_index, mappings=earlier)
    es.indices.create(index=f"{es_index_prefix}events-2026.01")
    ensure_indices(es, names)
    ensure_indices(es, names)  # and again: idempotent
    mapping = es.indices.get_mapping(index=names.conversations_index)[names.conversations_index]["mappings"]
    assert mapping["properties"]["conversation_ids"] == {"type": "keyword"}
    es.index(index=names.conversations_index, id="x", document={"conversation_ids": ["zd:1", "T:C:1.0"]})
    events = es.indices.get_mapping(index=f"{es_index_prefix}events-2026.01")[f"{es_index_prefix}events-2026.01"]
    assert events["mappings"]["properties"]["occurred_at"] == {"type": "date_nanos"}
