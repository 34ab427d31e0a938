"""Fault drill: Slack messages that vanish. Events arrive for messages that do not exist (deleted
right after they were posted, or replayed later), a parent is deleted while agents answer on its
ticket, threads disappear while agents answer (Slack answers thread_not_found for a while), and
one command comes in as a loop. Nothing
may feed itself: afterwards every topic holds a small multiple of what people did, each vanished
question has one ticket with one internal note saying its thread is gone, the loop is
dead-lettered once and never performed, and conversations before and after lose and double
nothing."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections import Counter
from itertools import count

import pytest
from confluent_kafka import Producer
from threadline_testing.kafka import read_topic

from threadline_common.causality import depth_header
from threadline_devstack.kafka_state import record_count

from .conftest import Ledger, Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEAM, CHANNEL = "T0SANDBOX", "C0SUPPORT"
GONE_NOTE = "can no longer post in Slack"


def inbound_row(message) -> str:
    """Which rows a threadline.router.inbound record is for: a conversation, a Home or queue (the
    router's home records), or a ticket's followers and a person's follows."""
    if dict(message.headers() or []).get("threadline-source") == b"home":
        return "home"
    key = message.key() or b""
    return "follows" if key.startswith((b"ticket:", b"person:")) else "conversation"


TOPICS = ("slack.events", "zendesk.events", "router.inbound", "commands", "sync.results", "activity")
_ts = count(1)


def ghost_ts() -> str:
    """A Slack ts no message in the sandbox has."""
    return f"{int(time.time()) - 3600}.{900000 + next(_ts):06d}"


def deliver_ghost(p: Pipeline, text: str, thread_ts: str | None = None) -> str:
    """A signed Events API delivery for a message Slack no longer has."""
    ts = ghost_ts()
    user = next(u for u, info in p.slack.ws.users.items() if info["name"] == "alice")
    event = {"type": "message", "user": user, "text": text, "ts": ts, "team": TEAM, "channel": CHANNEL}
    event.update(event_ts=ts, channel_type="channel", client_msg_id=str(uuid.uuid4()))
    if thread_ts:
        event["thread_ts"] = thread_ts
    p.slack._emit(event, CHANNEL)
    return ts


def bot_posts(p: Pipeline, ts: str) -> list[str]:
    return [m["text"] for m in p.slack.thread(CHANNEL, ts) if m.get("bot_id") and m["ts"] != ts]


def notes(p: Pipeline, ticket_id: int) -> list[str]:
    return [c["body"] for c in p.zendesk.comments_of(ticket_id) if not c["public"] and GONE_NOTE in c["body"]]


def ticket_of(p: Pipeline, ts: str) -> list[dict]:
    return [t for t in p.zendesk.tickets() if t["external_id"] == f"{TEAM}:{CHANNEL}:{ts}"]


def metric(p: Pipeline, service: str, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{p.ports[service]}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name))


@pytest.mark.timeout(300)
def test_vanished_messages_never_feed_a_loop(pipeline: Pipeline, kafka_bootstrap, kafka_topics):
    p = pipeline
    prefix = kafka_topics.prefix
    acts = 0

    # 1. Events for messages that do not exist: questions (their ticket is made from the event's
    #    own text) and replies in threads that never were (nothing to attach them to).
    ghosts = [deliver_ghost(p, f"vanished question {i}") for i in range(3)]
    strays = [deliver_ghost(p, f"reply to nothing {i}", thread_ts=ghost_ts()) for i in range(2)]
    acts += len(ghosts) + len(strays)

    # 2. Threads that vanish while agents answer: Slack answers thread_not_found for a while.
    before = Ledger(replies=0)
    for i in range(3):
        before.converse(p, i * 2, "before")  # even i: C0SUPPORT
    acts += len(before.roots)
    wait_until("the conversations before the fault", lambda: before.complete(p), timeout=90)
    tickets = [ticket_of(p, ts)[0]["id"] for _, ts in before.roots]

    # A parent deleted while agents answer: it has replies (the confirmation), so Slack keeps a
    # tombstone and the thread lives on; the answers reach it, once each, and the ticket hears of it.
    alice = p.user("alice")
    tomb = alice.chat_postMessage(channel=CHANNEL, text="my laptop is cursed")["ts"]
    acts += 3
    wait_until("the cursed laptop's ticket confirmed", lambda: bot_posts(p, tomb), timeout=60)
    [tomb_ticket] = ticket_of(p, tomb)
    alice.chat_delete(channel=CHANNEL, ts=tomb)
    p.zendesk.agent_comment(tomb_ticket["id"], "Have you tried an exorcism?")
    p.zendesk.agent_comment(tomb_ticket["id"], "Or a restart?")
    wait_until("both answers in the tombstoned thread", lambda: len(bot_posts(p, tomb)) == 3, timeout=60)
    wait_until(
        "the deletion noted on the ticket",
        lambda: any("was deleted from the thread" in c["body"] for c in p.zendesk.comments_of(tomb_ticket["id"])),
        timeout=60,
    )

    p.slack.knobs.thread_error = "thread_not_found"
    try:
        for ticket_id in tickets:
            p.zendesk.agent_comment(ticket_id, "Could you send the logs?")
            p.zendesk.agent_comment(ticket_id, "Anything new?")
        acts += 2 * len(tickets)
        wait_until(
            "each vanished thread's ticket told once",
            lambda: all(notes(p, t) for t in tickets),
            timeout=90,
        )
    finally:
        p.slack.knobs.thread_error = ""

    # 3. A loop arriving from elsewhere (a command far down a chain): dead-lettered, never posted.
    channel, root = before.roots[0]
    loop = {
        "schema_version": 1,
        "type": "slack.post_message",
        "command_id": "loop:drill",
        "conversation_id": f"{TEAM}:{channel}:{root}",
        "issued_at": "2026-11-30T09:00:00Z",
        "cause": {"topic": "threadline.sync.results", "event_id": "loop:drill"},
        "channel_id": channel,
        "thread_ts": root,
        "text": "LOOP: this must never be posted",
        "purpose": "notice",
    }
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(
        prefix + "threadline.commands",
        key=loop["conversation_id"].encode(),
        value=json.dumps(loop).encode(),
        headers=[depth_header(40)],
    )
    assert producer.flush(30) == 0
    wait_until("the loop dead-lettered", lambda: metric(p, "zendesk-sync", "threadline_zendesk_sync_loops_total") >= 1)

    # 4. Conversations after all that: whole, once.
    after = Ledger(replies=1)
    for i in range(3):
        after.converse(p, i, "after")
    acts += len(after.roots) * 2

    wait_until("the conversations after the fault", lambda: after.complete(p), timeout=90)
    wait_until("every vanished question's ticket and note", lambda: all(ticket_of(p, ts) for ts in ghosts), timeout=60)
    wait_until(
        "the ghosts' notes",
        lambda: all(notes(p, ticket_of(p, ts)[0]["id"]) for ts in ghosts),
        timeout=60,
    )

    p.settle()  # whatever could still feed a loop has been consumed: the counts below are final
    counts = {t: record_count(kafka_bootstrap, f"{prefix}threadline.{t}") for t in TOPICS}
    counts["commands.dlq"] = record_count(kafka_bootstrap, f"{prefix}threadline.commands.dlq")
    counts["inbound.dlq"] = record_count(kafka_bootstrap, f"{prefix}threadline.router.inbound.dlq")
    # The router's inbound topic also carries its own records about Homes (each change tells a
    # requester's Home and a channel's queue) and a ticket's followers (each Zendesk update's copy
    # under ticket:<id>): counted apart, each bounded like the rest.
    # (Read after the count above: the Homes' timer may still add a held-back publish's record.)
    rows = Counter(inbound_row(m) for m in read_topic(kafka_bootstrap, f"{prefix}threadline.router.inbound"))
    assert sum(rows.values()) >= counts["router.inbound"], rows
    counts["router.inbound"] = rows["conversation"]
    counts["inbound.home"], counts["inbound.follows"] = rows["home"], rows["follows"]

    # Bounded: a few records per thing people did, on every topic; one dead letter (the loop).
    for topic, n in counts.items():
        assert n <= 6 * acts, f"{topic} holds {n} records for {acts} acts: something feeds itself ({counts})"
    assert counts["commands.dlq"] == 1, counts

    # Each vanished question: one ticket from the event's text, one note, not a word in Slack.
    for i, ts in enumerate(ghosts):
        [ticket] = ticket_of(p, ts)
        assert ticket["description"].startswith(f"vanished question {i}")
        assert len(notes(p, ticket["id"])) == 1, p.zendesk.comments_of(ticket["id"])
    for ts in strays:
        assert ticket_of(p, ts) == []
    for ticket_id in tickets:
        # The question, the two answers Slack never showed, and one note: nothing lost, nothing twice.
        comments = p.zendesk.comments_of(ticket_id)
        assert len(notes(p, ticket_id)) == 1 and len(comments) == 4, comments
    posted = [m["text"] for m in p.slack.channel_messages(channel)] + [
        m["text"] for _, ts in before.roots for m in p.slack.thread(channel, ts)
    ]
    assert not [t for t in posted if "LOOP" in t or "could not update Zendesk" in t], posted
    for name in ("router", "zendesk-sync"):
        assert p.processes[name].alive(), f"{name} died:\n{p.processes[name].log_tail()}"
    assert metric(p, "router", "threadline_router_loops_total") == 0  # the rules ended every chain themselves
    for _, ts in before.roots:  # each confirmed once before its thread vanished, nothing posted since
        assert sum(1 for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts) == 1
    result = after.counts(p)
    assert (result["lost"], result["duplicated"]) == (0, 0), result
    assert len(bot_posts(p, tomb)) == 3 and notes(p, tomb_ticket["id"]) == []  # a tombstone is no gone thread
    print(
        f"\ndrill: {acts} acts ({len(ghosts)} vanished questions, {len(strays)} stray replies, "
        f"{len(tickets)} threads gone under {2 * len(tickets)} agent answers, one loop); records per topic {counts}; "
        "lost 0, duplicated 0"
    )
