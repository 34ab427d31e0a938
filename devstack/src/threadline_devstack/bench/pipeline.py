"""Pipeline: conversations and events per second through router and zendesk-sync, from the Slack
events topic to their effects in the sandboxes (one ticket per thread, one comment per reply,
one confirmation per thread).

The threads are first written into the Slack sandbox (the confirmation must have a thread to
go to), then their events are produced to threadline.slack.events at once, as ingest would have
published them; the clock runs from the first record produced until the last effect is seen.
Baseline: a minimal aiokafka (the client library under faust) consume-and-produce loop over
the same records: read, produce to a sink topic with acks=all, commit after each batch.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

from confluent_kafka import Producer
from slack_sdk import WebClient

from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, wait_for
from threadline_devstack.bench.events import message_body, topic_record
from threadline_devstack.bench.stack import BenchStack, bench_stack

CONVERSATIONS = 240
REPLIES = 2
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


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    conversations = 20 if quick else CONVERSATIONS
    figure = Figure(
        "pipeline",
        "pipeline",
        baseline="a minimal aiokafka consume -> produce (acks=all) -> commit loop over the same Slack event records",
        note=(
            "zendesk-sync is the bound: it performs one command at a time (agent concurrency 1, across all its "
            "partitions) and awaits each result's acknowledgement before the next. cProfile (120 conversations, "
            "600 commands): checking each command against the commands JSON Schema costs ~8 ms of CPU (4.8 s of "
            "the 13.7 s run; the schema is a oneOf of every variant, so jsonschema walks all of them), the HTTP "
            "effects ~3 ms, the rest is waiting on one round trip after another. The router is not the bound (2.3 s "
            "of CPU in its handler). To close it: validate against the variant named by `type` only (or a "
            "precompiled validator), run commands of different conversations concurrently while keeping each "
            "conversation's order, and await result acknowledgements per batch before committing."
        ),
    )
    with bench_stack(bootstrap, "pipeline") as s:
        bodies = write_threads(s, conversations, REPLIES, "pipeline")
        roots = [(b["event"]["channel"], b["event"]["ts"]) for b in bodies if "thread_ts" not in b["event"]]
        began = time.monotonic()
        produce(bootstrap, s.topic("threadline.slack.events"), bodies)
        wait_for(
            "every ticket, comment and confirmation",
            lambda: complete(effects(s, roots, REPLIES)),
            timeout=max(60.0, min(600.0, budget.remaining() - 120)),
            interval=0.25,
        )
        elapsed = time.monotonic() - began
        time.sleep(3)  # anything still in flight would show up as a duplicate now
        counts = effects(s, roots, REPLIES)
        memory = s.memory()
        base = baseline_seconds(
            bootstrap, s.topic("threadline.slack.events"), s.topic("threadline.activity"), len(bodies)
        )
    events = len(bodies)
    effect_count = counts["tickets"] + counts["comments"] + counts["confirmations"]
    figure.add(
        Metric("Slack events/s", "events/s", events / elapsed, events / base, "higher"),
        Metric(
            "conversations/s",
            "conv/s",
            conversations / elapsed,
            conversations / base,
            "higher",
            f"{REPLIES} replies each",
        ),
        Metric("effects/s in Zendesk and Slack", "effects/s", effect_count / elapsed, None, "higher"),
    )
    doubled = counts["tickets_doubled"] + counts["comments_doubled"] + counts["confirmations_doubled"]
    lost = counts["tickets_lost"] + counts["comments_lost"] + counts["confirmations_lost"]
    figure.details = {
        "conversations": conversations,
        "replies_per_conversation": REPLIES,
        "events": events,
        "seconds": round(elapsed, 2),
        "baseline_seconds": round(base, 2),
        "effects": counts,
        "lost": lost,
        "doubled": doubled,
        "memory_mib_after": memory,
        "settings": s.settings,
        "baseline_sink": "threadline.activity under the bench prefix (any topic would do: it is only written)",
    }
    if lost or doubled:
        raise BenchError(f"pipeline lost {lost} and doubled {doubled} effects: {counts}")
    return figure
