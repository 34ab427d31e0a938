"""An emailed ticket and the Slack thread opened for it are one conversation: its origin is
e-mail, it opened with the e-mail, and each message counts once, whatever the order in which
the two halves arrive, and however often they are replayed."""

from __future__ import annotations

import random

import pytest

from threadline_common.business_hours import Calendar
from threadline_reporter.documents import Privacy, doc_id, event_document, fold_conversation, merge_conversations

from .conftest import produce, wait_until
from .email_story import (
    AGENT,
    BRIDGE,
    EMAIL,
    REQUESTER,
    THREAD,
    TICKET,
    email_records,
    renumbered,
    thread_records,
)

BRIDGE_IDS = frozenset({BRIDGE})


def docs(records):
    return [event_document(r, Privacy(salt=b"pepper")) for r in records]


def folded(records):
    groups, merged = merge_conversations(docs(records))
    return {cid: fold_conversation(events, Calendar("UTC"), BRIDGE_IDS, cid) for cid, events in groups.items()}, merged


EXPECTED = {
    "conversation_id": THREAD,
    "conversation_ids": [THREAD, EMAIL],
    "source": "email",
    "status": "solved",
    "opened_at": "2026-11-23T10:01:39.426Z",
    "first_response_at": "2026-11-23T10:01:45.100Z",
    "first_responder_id": AGENT,
    "resolved_at": "2026-11-23T10:31:39.426Z",
    "time_to_resolution_seconds": 1800.0,
    "ticket_id": TICKET,
    "thread_ts": THREAD.rsplit(":", 1)[1],
    # the e-mail, Ann's answer, the Slack reply, Dana's answer (not the copy, not the note)
    "message_count": 4,
    "requester_message_count": 2,
    "responders": sorted([AGENT, "U0SRE"]),
    "internal_note_count": 1,
    "tags": ["vpn"],
}


def expected_in(conversation):
    return {k: conversation[k] for k in EXPECTED}


@pytest.mark.unit
def test_the_email_and_its_thread_fold_into_one_conversation_in_any_order():
    records = email_records() + thread_records()
    rng = random.Random(6)
    for _ in range(20):
        rng.shuffle(records)
        conversations, merged = folded(records)
        assert merged == {EMAIL}
        assert list(conversations) == [THREAD]
        assert expected_in(conversations[THREAD]) == EXPECTED
        assert conversations[THREAD]["requester"]["id"] == REQUESTER


@pytest.mark.unit
def test_each_half_alone_is_its_own_conversation_until_the_other_arrives():
    alone, merged = folded(email_records())
    assert merged == set() and list(alone) == [EMAIL]
    assert alone[EMAIL]["source"] == "email" and alone[EMAIL]["message_count"] == 2
    thread, merged = folded(thread_records())
    assert merged == set() and list(thread) == [THREAD]


@pytest.mark.unit
def test_a_slack_conversation_with_the_same_ticket_number_elsewhere_is_not_merged():
    # Tickets opened from Slack have no `zd:` conversation: two threads never merge with each other.
    other = [dict(r, conversation_id="T0001:C0SUPPORT:1.000000") for r in thread_records()]
    conversations, merged = folded(thread_records() + other)
    assert merged == set() and len(conversations) == 2


@pytest.mark.unit
@pytest.mark.parametrize(
    ("bridge", "messages"),
    [(BRIDGE_IDS, 4), (frozenset(), 5)],
    ids=["bridge-user-known", "bridge-user-unset"],
)
def test_a_slack_reply_and_its_zendesk_copy_count_once_when_the_copy_is_the_bridges(bridge, messages):
    groups, _ = merge_conversations(docs(email_records() + thread_records()))
    conversation = fold_conversation(groups[THREAD], Calendar("UTC"), bridge, THREAD)
    assert conversation["message_count"] == messages
    # The copy is never a response either way round.
    assert BRIDGE not in conversation["responders"] or not bridge


@pytest.mark.integration
def test_one_document_per_emailed_conversation_whatever_arrives_first_and_after_a_replay(
    make_service, es, es_index_prefix, kafka_bootstrap, kafka_topics
):
    # Two emailed tickets: 4020's e-mail arrives before its thread's activity, 4021's after.
    other_ts = "1795773999.000300"
    other_thread, other_email = f"T0001:C0SUPPORT:{other_ts}", "zd:4021"
    service = make_service(bridge_actor_ids=BRIDGE).start()
    index = f"{es_index_prefix}conversations"

    def conversations():
        try:
            es.indices.refresh(index=index)
            return {h["_id"]: h["_source"] for h in es.search(index=index, size=100)["hits"]["hits"]}
        except Exception:
            return {}

    produce(kafka_bootstrap, kafka_topics.activity, email_records() + renumbered(thread_records(), 4021, other_ts))
    halves = {doc_id(EMAIL), doc_id(other_thread)}
    wait_until("each first half's own conversation", lambda: set(conversations()) == halves)
    produce(kafka_bootstrap, kafka_topics.activity, thread_records() + renumbered(email_records(), 4021, other_ts))
    merged = {doc_id(THREAD), doc_id(other_thread)}

    def both_merged():
        found = conversations()
        done = set(found) == merged and all(c["message_count"] == 4 for c in found.values())
        return found if done else None

    before = wait_until("two merged conversations", both_merged)
    assert expected_in(before[doc_id(THREAD)]) == EXPECTED
    other = before[doc_id(other_thread)]
    assert other["conversation_ids"] == [other_thread, other_email]
    assert expected_in(other) == EXPECTED | {
        "conversation_id": other_thread,
        "conversation_ids": [other_thread, other_email],
        "ticket_id": 4021,
        "thread_ts": other_ts,
    }

    # Replaying everything (another group, from the start) changes nothing and splits nothing.
    service.close()
    replay = make_service(group_id=f"{service.settings.group_id}-replay", bridge_actor_ids=BRIDGE).start()
    wait_until("the replay", lambda: replay.metrics.records.labels("indexed")._value.get() >= 16)
    assert conversations() == before
