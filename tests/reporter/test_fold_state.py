"""The fold state: conversation documents folded from kept events equal those folded from every
event read back (what a rebuild gives), whatever the batching; a miss reads back once; a refused
event is folded out; and a document Elasticsearch refuses goes to the dead-letter topic with the
reason while the stream goes on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from confluent_kafka import Consumer

from threadline_common.business_hours import Calendar
from threadline_common.dlq import dlq_reason
from threadline_reporter.documents import Privacy, doc_id, event_document, fold_conversation, merge_conversations
from threadline_reporter.folds import FoldState, related_events

from .conftest import produce, wait_until
from .email_story import email_records, thread_records
from .test_indexing import THREAD, examples, indexed

CAL = Calendar("UTC")


def docs_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc_id(r["event_id"]): event_document(r, Privacy()) for r in records}


def folded(events: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    groups, _ = merge_conversations(events)
    return {c: fold_conversation(d, CAL, frozenset(), c) for c, d in groups.items()}


class Store:
    """What Elasticsearch holds, and how often it was asked."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.reads: list[tuple[set[str], set[int]]] = []

    def read(self, conversations: set[str], tickets: set[int]):
        self.reads.append((set(conversations), set(tickets)))
        for _id, d in self.docs.items():
            if d["conversation_id"] in conversations or d["ticket_id"] in tickets:
                yield _id, d


def batched(records: list[dict[str, Any]], size: int) -> list[dict[str, dict[str, dict[str, Any]]]]:
    out = []
    for start in range(0, len(records), size):
        batch: dict[str, dict[str, dict[str, Any]]] = {}
        for _id, d in docs_by_id(records[start : start + size]).items():
            if d["type"] != "join":
                batch.setdefault(d["conversation_id"], {})[_id] = d
        out.append(batch)
    return out


@pytest.mark.unit
@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_kept_events_fold_like_every_event_read_back(size):
    records = examples() + email_records() + thread_records()
    store, state = Store(), FoldState()
    latest: dict[str, dict[str, Any] | None] = {}
    for batch in batched(records, size):
        events = related_events(state, batch, store.read)
        latest.update(folded(events))
        for conversation in batch.values():
            store.docs.update(conversation)
    rebuilt = folded(list(store.docs.values()))
    assert {c: latest[c] for c in rebuilt} == rebuilt


@pytest.mark.unit
def test_a_miss_reads_back_once_then_the_state_answers():
    records = examples()
    store = Store()
    store.docs.update(docs_by_id(records[:5]))  # indexed before a restart
    state = FoldState()
    first, second = batched(records[5:], 4)[:2]
    related_events(state, first, store.read)
    reads = len(store.reads)
    assert any(THREAD in conversations for conversations, _ in store.reads)
    related_events(state, {THREAD: second.get(THREAD, {})}, store.read)
    assert not any(THREAD in conversations for conversations, _ in store.reads[reads:])


@pytest.mark.unit
def test_a_ticket_opened_from_its_thread_is_never_looked_for_as_an_emailed_conversation():
    """A ticket Threadline opened from a Slack thread was not e-mailed: no `zd:<ticket>` search
    for it. A ticket whose opening is not among the thread's events still is (an emailed one)."""
    slack_ticket = next(r["ticket_id"] for r in examples() if r["type"] == "ticket_created")
    store, state = Store(), FoldState()
    for batch in batched(examples(), 4):
        related_events(state, batch, store.read)
    asked = set().union(*(conversations for conversations, _ in store.reads))
    assert f"zd:{slack_ticket}" not in asked and THREAD in asked  # the thread itself: read once, on a miss
    store = Store()
    store.docs.update(docs_by_id(email_records()))  # the e-mail, indexed before its thread's activity
    [batch] = batched(thread_records(), 100)
    merged = folded(related_events(FoldState(), batch, store.read))
    emailed = email_records()[0]["conversation_id"]
    assert any(emailed in conversations for conversations, _ in store.reads)
    assert merged == folded([*store.docs.values(), *docs_by_id(thread_records()).values()])


@pytest.mark.unit
def test_an_event_applied_twice_counts_once_and_a_refused_one_not_at_all():
    records = examples()
    state = FoldState()
    batch = batched(records, 100)[0]
    once = folded(related_events(state, batch, Store().read))
    twice = folded(related_events(state, batch, Store().read))
    assert once == twice
    reply = doc_id("slack:C0SUPPORT:1700000000.000200")
    state.discard(THREAD, [reply])
    without = folded(related_events(state, {THREAD: {}}, Store().read))
    assert without[THREAD]["event_count"] == once[THREAD]["event_count"] - 1


@pytest.mark.unit
def test_the_state_keeps_at_most_its_bound_of_events_least_recently_used_out():
    state = FoldState(max_events=10)
    for c in range(5):
        state.put(f"c{c}", {f"e{c}{n}": {"conversation_id": f"c{c}", "ticket_id": c} for n in range(4)})
    assert len(state) == 2 and "c4" in state and "c3" in state and "c0" not in state
    assert state.with_ticket(0) == set() and state.with_ticket(4) == {"c4"}


@pytest.mark.integration
def test_a_document_elasticsearch_refuses_is_dead_lettered_and_folded_out(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    # A ticket id JSON Schema takes (an integer) and Elasticsearch's `long` does not.
    refused = {**examples()[2], "event_id": "zd-comment:too-big", "ticket_id": 2**70}
    produce(kafka_bootstrap, kafka_topics.activity, [*examples(), refused])
    make_service().start()
    wait_until("13 events and 2 conversations", lambda: indexed(es, es_index_prefix, 13, 2))

    dlq = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "dlq-check", "auto.offset.reset": "earliest"})
    dlq.subscribe([kafka_topics.dlq(kafka_topics.ACTIVITY)])
    letter = wait_until("the dead letter", lambda: dlq.poll(0.5))
    dlq.close()
    assert json.loads(letter.value())["event_id"] == "zd-comment:too-big"
    assert "rejected by Elasticsearch" in dlq_reason(letter.headers())["reason"]

    es.indices.refresh(index=f"{es_index_prefix}conversations")
    stored = es.get(index=f"{es_index_prefix}conversations", id=doc_id(THREAD))["_source"]
    expected = folded(list(docs_by_id([r for r in examples() if r["type"] != "join"]).values()))[THREAD]
    assert stored == expected
