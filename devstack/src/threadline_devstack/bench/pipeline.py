"""Pipeline: conversations and events per second through router and zendesk-sync, from the Slack
events topic to their effects in the sandboxes (one ticket per thread, one comment per reply,
one confirmation per thread).

The threads are first written into the Slack sandbox (the confirmation must have a thread to
go to), then their events are produced to threadline.slack.events at once, as ingest would have
published them; the clock runs from the first record produced until the last effect is seen.

Two baselines, both measured in the same run:
- effects: the same effects made directly, without Kafka, router or zendesk-sync: for each
  conversation the zenpy and slack_sdk calls zendesk-sync makes for its commands, in order, with
  its check-before-write reads (the ticket looked up by external_id, then created with it and the
  thread's permalink; the thread read for an earlier post, then the confirmation posted with its
  metadata; the ticket's comments read once, then each reply added as a comment with its
  metadata), against the same sandboxes, in as many threads as zendesk-sync makes Zendesk calls
  at once (THREADLINE_ZENDESK_SYNC_ZENDESK_CONCURRENCY, 16). What it leaves out are the look-ups
  zendesk-sync caches after the first command (the Slack person, the Zendesk user).
- consume-produce: a minimal aiokafka (the client library under faust) consume-and-produce loop
  over the same records: read, produce to a sink topic with acks=all, commit after each batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import requests
from confluent_kafka import Producer
from requests.adapters import HTTPAdapter
from slack_sdk import WebClient
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket

from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, wait_for
from threadline_devstack.bench.events import message_body, topic_record
from threadline_devstack.bench.profiler import describe, describe_cpu
from threadline_devstack.bench.stack import BenchStack, bench_stack

CONVERSATIONS = 240
REPLIES = 2
CONCURRENCY = 16  # zendesk-sync's default THREADLINE_ZENDESK_SYNC_ZENDESK_CONCURRENCY
PEOPLE = {"C0SUPPORT": ["alice", "bob", "sam"], "C0INFRA": ["alice", "sam"]}


def write_threads(s: BenchStack, conversations: int, replies: int, tag: str) -> list[dict[str, Any]]:
    """Post the threads into the Slack sandbox; return the Events API bodies of every message, in order."""
    clients = {
        name: WebClient(token=s.slack.user_token(name), base_url=s.slack.api_url) for name in ("alice", "bob", "sam")
    }
    user_ids = {name: s.slack.ws.tokens[s.slack.user_token(name)] for name in clients}
    bodies = []
    channels = list(PEOPLE)
    for i in range(conversations):
        channel = channels[i % 2]
        people = PEOPLE[channel]
        author = people[i % len(people)]
        text = f"{tag} {i}: the build agents cannot reach the artifact store"
        ts = clients[author].chat_postMessage(channel=channel, text=text)["ts"]
        bodies.append(message_body(channel, user_ids[author], ts, text))
        for n in range(replies):
            who = people[(i + n + 1) % len(people)]
            reply = f"{tag} reply {n} to {i}: still failing"
            rts = clients[who].chat_postMessage(channel=channel, thread_ts=ts, text=reply)["ts"]
            bodies.append(message_body(channel, user_ids[who], rts, reply, thread_ts=ts))
    return bodies


def produce(bootstrap: str, topic: str, bodies: list[dict[str, Any]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    for body in bodies:
        key, value = topic_record(body)
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    if producer.flush(30):
        raise BenchError("the Slack events were not all acknowledged by Kafka")


def effects(s: BenchStack, roots: list[tuple[str, str]], replies: int) -> dict[str, int]:
    """Lost and doubled effects of these threads, as the sandboxes hold them now."""
    tickets = s.tickets_by_external_id()
    bot_posts: Counter[tuple[str, str]] = Counter()
    for channel in {c for c, _ in roots}:
        for m in s.slack.channel_messages(channel):
            if m.get("bot_id") and m.get("thread_ts") and m["thread_ts"] != m["ts"]:
                bot_posts[(channel, m["thread_ts"])] += 1
    counts = Counter[str]()
    for channel, ts in roots:
        found = tickets.get(f"T0SANDBOX:{channel}:{ts}", [])
        counts["tickets"] += min(len(found), 1)
        counts["tickets_lost"] += len(found) == 0
        counts["tickets_doubled"] += max(0, len(found) - 1)
        if found:
            comments = len(s.zendesk.comments_of(found[0]["id"]))
            counts["comments"] += min(comments, 1 + replies)
            counts["comments_lost"] += max(0, 1 + replies - comments)
            counts["comments_doubled"] += max(0, comments - 1 - replies)
        else:
            counts["comments_lost"] += 1 + replies
        posts = bot_posts[(channel, ts)]
        counts["confirmations"] += min(posts, 1)
        counts["confirmations_lost"] += posts == 0
        counts["confirmations_doubled"] += max(0, posts - 1)
    return dict(counts)


def complete(counts: dict[str, int]) -> bool:
    return not any(counts.get(k) for k in ("tickets_lost", "comments_lost", "confirmations_lost"))


async def _consume_produce(bootstrap: str, source: str, sink: str, expected: int) -> float:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"bench-baseline-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        began = time.monotonic()
        done = 0
        while done < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            futures = [
                await producer.send(sink, key=record.key, value=record.value)
                for records in batches.values()
                for record in records
            ]
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(futures)
        return time.monotonic() - began
    finally:
        await consumer.stop()
        await producer.stop()


def baseline_seconds(bootstrap: str, source: str, sink: str, expected: int) -> float:
    return asyncio.run(_consume_produce(bootstrap, source, sink, expected))


def direct_effects(s: BenchStack, bodies: list[dict[str, Any]], concurrency: int = CONCURRENCY) -> float:
    """Make every conversation's effects directly (see the module's docstring); returns the seconds."""
    import os

    for key, value in s.zendesk.zenpy_env().items():
        os.environ[key] = value  # zenpy reaches the sandbox through these
    session = requests.Session()
    for scheme in ("http://", "https://"):  # a connection per thread, as zendesk-sync's session has
        session.mount(scheme, HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency))
    # One zenpy client per thread, as zendesk-sync has: a client tracks the objects of its last
    # call, so threads sharing one race (`_dirty_object` is None in another thread's answer).
    clients = threading.local()

    def zendesk() -> Zenpy:
        if not hasattr(clients, "zen"):
            clients.zen = Zenpy(
                subdomain=s.zendesk.subdomain, email=s.zendesk.api_email, token=s.zendesk.api_token, session=session
            )
            clients.zen.disable_caching()
        return clients.zen

    bot = WebClient(token=s.slack.bot_token, base_url=s.slack.api_url)
    alice = s.zendesk.find_user("alice@sandbox-corp.example")
    requester = int(alice["id"]) if alice else None
    threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for body in bodies:
        event = body["event"]
        threads.setdefault((event["channel"], event.get("thread_ts") or event["ts"]), []).append(event)

    def conversation(item: tuple[tuple[str, str], list[dict[str, Any]]]) -> None:
        (channel, ts), events = item
        zen = zendesk()
        external_id = f"T0SANDBOX:{channel}:{ts}"
        root, replies = events[0], events[1:]
        if list(zen.tickets(external_id=quote(external_id, safe=""))):
            raise BenchError(f"baseline: {external_id} exists already")
        permalink = bot.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        ticket = zen.tickets.create(
            Ticket(
                subject=root["text"][:80],
                comment={"body": f"{root['text']}\n\n{permalink}", "public": True},
                requester_id=requester,
                external_id=external_id,
                tags=["slack"],
                metadata={"threadline_command_id": f"direct:{external_id}"},
            )
        ).ticket
        earlier = bot.conversations_replies(channel=channel, ts=ts, oldest=ts, include_all_metadata=True, limit=200)[
            "messages"
        ]
        if any(m.get("metadata") for m in earlier):
            raise BenchError("baseline: a confirmation was already posted")
        bot.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=f"Ticket #{ticket.id} opened",
            metadata={"event_type": "threadline_post", "event_payload": {"command_id": f"announce:{ts}"}},
        )
        if replies:
            list(zen.tickets.comments(ticket=ticket.id))  # read once, as zendesk-sync caches it
        for reply in replies:
            zen.tickets.update(
                Ticket(
                    id=ticket.id,
                    comment=Comment(body=reply["text"], public=True, author_id=requester),
                    metadata={"threadline_command_id": f"comment:{channel}:{reply['ts']}"},
                )
            )

    began = time.monotonic()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="direct") as pool:
        list(pool.map(conversation, threads.items()))
    return time.monotonic() - began


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    conversations = 20 if quick else CONVERSATIONS
    figure = Figure(
        "pipeline",
        "pipeline",
        baseline=(
            f"effects/s: the same zenpy and slack_sdk calls made directly, with zendesk-sync's check-before-write "
            f"reads, {CONCURRENCY} conversations at once (zendesk-sync's Zendesk concurrency); events/s: a minimal "
            "aiokafka consume -> produce (acks=all) -> commit loop over the same Slack event records"
        ),
    )
    with bench_stack(bootstrap, "pipeline") as s:
        bodies = write_threads(s, conversations, REPLIES, "pipeline")
        roots = [(b["event"]["channel"], b["event"]["ts"]) for b in bodies if "thread_ts" not in b["event"]]
        with s.measured() as window:
            began = time.monotonic()
            produce(bootstrap, s.topic("threadline.slack.events"), bodies)
            wait_for(
                "every ticket, comment and confirmation",
                lambda: complete(effects(s, roots, REPLIES)),
                timeout=max(60.0, min(600.0, budget.remaining() - 120)),
                interval=0.25,
            )
            elapsed = time.monotonic() - began
        counts = effects(s, roots, REPLIES)  # anything still in flight shows up as a duplicate now
        memory = s.memory()
        base = baseline_seconds(
            bootstrap, s.topic("threadline.slack.events"), s.topic("threadline.activity"), len(bodies)
        )
        direct_bodies = write_threads(s, conversations, REPLIES, "direct")
        direct_roots = [
            (b["event"]["channel"], b["event"]["ts"]) for b in direct_bodies if "thread_ts" not in b["event"]
        ]
        with s.measured() as direct_window:
            direct = direct_effects(s, direct_bodies)
        direct_counts = effects(s, direct_roots, REPLIES)
    events = len(bodies)
    effect_count = counts["tickets"] + counts["comments"] + counts["confirmations"]
    direct_count = direct_counts["tickets"] + direct_counts["comments"] + direct_counts["confirmations"]
    figure.add(
        Metric(
            "effects/s in Zendesk and Slack",
            "effects/s",
            effect_count / elapsed,
            direct_count / direct,
            "higher",
            "vs the same calls made directly",
        ),
        Metric("Slack events/s", "events/s", events / elapsed, events / base, "higher", "vs aiokafka consume-produce"),
        Metric(
            "conversations/s",
            "conv/s",
            conversations / elapsed,
            conversations / direct,
            "higher",
            f"{REPLIES} replies each, vs made directly",
        ),
    )
    sync = window["profiles"].get("zendesk-sync", {})
    router = window["profiles"].get("router", {})
    figure.note = (
        f"Profile of this run's {elapsed:.1f} s window (wall-clock samples every 10 ms): "
        + describe("zendesk-sync", sync)
        + "; "
        + describe("router", router, ("MainThread",))
        + ". "
        + describe_cpu(window["cpu"])
        + f" (per Slack event: router {1000 * window['cpu'].get('router', 0) / len(bodies):.1f} ms, zendesk-sync "
        + f"{1000 * window['cpu'].get('zendesk-sync', 0) / len(bodies):.1f} ms of CPU)"
        + f". The direct baseline's {direct:.1f} s: "
        + describe_cpu(direct_window["cpu"])
        + "."
    )
    doubled = counts["tickets_doubled"] + counts["comments_doubled"] + counts["confirmations_doubled"]
    lost = counts["tickets_lost"] + counts["comments_lost"] + counts["confirmations_lost"]
    figure.details = {
        "conversations": conversations,
        "replies_per_conversation": REPLIES,
        "events": events,
        "effects_per_conversation": "ticket, its first comment, each reply's comment, the confirmation",
        "seconds": round(elapsed, 2),
        "direct_seconds": round(direct, 2),
        "direct_concurrency": CONCURRENCY,
        "direct_effects": direct_counts,
        "baseline_seconds": round(base, 2),
        "effects": counts,
        "lost": lost,
        "doubled": doubled,
        "memory_mib_after": memory,
        "cpu_seconds": window["cpu"],
        "direct_cpu_seconds": direct_window["cpu"],
        "profiles": window["profiles"],
        "settings": s.settings,
        "baseline_sink": "threadline.activity under the bench prefix (any topic would do: it is only written)",
    }
    if lost or doubled:
        raise BenchError(f"pipeline lost {lost} and doubled {doubled} effects: {counts}")
    if not complete(direct_counts):
        raise BenchError(f"the direct baseline's effects are incomplete: {direct_counts}")
    return figure
