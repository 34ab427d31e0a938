"""End to end, and isolation: from a signed Slack event reaching ingest to the ticket existing in
Zendesk, and to the confirmation in the Slack thread; p50/p95/p99 at a steady 20 new
conversations a second, spread over the bench workspace's six support channels.

Each thread is first written into the Slack sandbox, then its event is POSTed to ingest signed,
as Slack delivers it; the clock starts just before that POST (sends run in a small pool, so a
slow POST does not delay the next one's schedule). A watcher reads what is new in the sandboxes
every 10 ms (the resolution of these figures). Baseline: the same two effects made directly at
the same rate (zenpy creates the ticket, slack_sdk posts in the thread), without Kafka, router or
zendesk-sync: what the two SaaS calls alone cost here.

Isolation: the same load again on the same stack, with the Slack sandbox letting the bot post
only `LIMITED_POSTS_PER_MINUTE` times a minute in one channel (429 with Retry-After over it, as
Slack limits a busy channel). The figure is the other channels' confirmation p99 against theirs
in the run without the limit.

A warm-up of `WARM_UP` conversations at the same rate comes first and is left out of the
percentiles (its own are in the details): the first seconds after the services start are their
start-up, not the steady state this figure is about.

Where the time goes comes from this run: each stage's share from the records' own Kafka
timestamps (ingest's record on threadline.slack.events, the router's create_ticket command on
threadline.commands) and the watcher's times, plus the services' sampling profiles.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
from confluent_kafka import Consumer, TopicPartition
from slack_sdk import WebClient
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket

from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, median, percentile, wait_for
from threadline_devstack.bench.events import message_body, signed_headers
from threadline_devstack.bench.profiler import describe, describe_cpu
from threadline_devstack.bench.stack import BENCH_CHANNELS, SLACK_SECRET, BenchStack, bench_stack

RATE_PER_SECOND = 20.0
SECONDS = 25
LIMITED = "C0INFRA"
LIMITED_POSTS_PER_MINUTE = 10
SENDERS = 4  # threads sending on schedule
WARM_UP = 40  # conversations (2 s at the rate) before the measured ones


class Watcher:
    """Sees tickets and confirmations appear: conversation key -> seconds since it was sent."""

    def __init__(self, s: BenchStack) -> None:
        self.s = s
        self.sent: dict[str, float] = {}  # key -> monotonic time of the POST
        self.sent_wall: dict[str, float] = {}  # key -> epoch seconds of the POST
        self.seen: dict[str, dict[str, float]] = {}  # key -> {"ticket": s, "confirmation": s}
        self.seen_wall: dict[str, dict[str, float]] = {}
        self._tickets = 0
        self._messages = dict.fromkeys(BENCH_CHANNELS, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-watcher", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _mark(self, key: str, what: str, now: float, wall: float) -> None:
        if key in self.sent and what not in self.seen.setdefault(key, {}):
            self.seen[key][what] = now - self.sent[key]
            self.seen_wall.setdefault(key, {})[what] = wall

    def _run(self) -> None:
        while not self._stop.is_set():
            now, wall = time.monotonic(), time.time()
            new = self.s.zendesk.external_ids_since(self._tickets)
            self._tickets += len(new)
            for key in new:
                if key:
                    self._mark(key, "ticket", now, wall)
            for channel in BENCH_CHANNELS:
                messages = self.s.slack.messages_since(channel, self._messages[channel])
                self._messages[channel] += len(messages)
                for m in messages:
                    if m.get("bot_id") and m.get("thread_ts") and m["thread_ts"] != m["ts"]:
                        key = f"T0SANDBOX:{channel}:{m['thread_ts']}"
                        self._mark(key, "ticket", now, wall)  # a confirmation proves the ticket
                        self._mark(key, "confirmation", now, wall)
            self._stop.wait(0.01)

    def done(self, keys: list[str]) -> bool:
        return all("confirmation" in self.seen.get(k, {}) for k in keys)


def _paced(count: int, rate: float, action: Callable[[int], None], workers: int = SENDERS) -> float:
    """Start action(i) at a steady rate in a pool; return how late the latest start was (seconds)."""
    late = [0.0]
    began = time.monotonic()

    def at(i: int) -> None:
        late[0] = max(late[0], time.monotonic() - (began + i / rate))
        action(i)

    futures: list[Future[None]] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="sender") as pool:
        for i in range(count):
            delay = began + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the load's schedule, not synchronisation
            futures.append(pool.submit(at, i))
        for future in futures:
            future.result()
    return late[0]


def _load(
    s: BenchStack, watcher: Watcher, count: int, tag: str, rate: float = RATE_PER_SECOND
) -> tuple[list[str], float]:
    """`count` conversations at `rate` a second through ingest; returns their keys and the lateness."""
    alice = WebClient(token=s.slack.user_token("alice"), base_url=s.slack.api_url)
    alice_id = s.slack.ws.tokens[s.slack.user_token("alice")]
    keys: list[str] = [""] * count
    with httpx.Client(timeout=10) as http:

        def converse(i: int) -> None:
            channel = BENCH_CHANNELS[i % len(BENCH_CHANNELS)]
            text = f"{tag} {i}: cannot log in to the VPN"
            ts = alice.chat_postMessage(channel=channel, text=text)["ts"]
            raw = json.dumps(message_body(channel, alice_id, ts, text)).encode()
            key = f"T0SANDBOX:{channel}:{ts}"
            keys[i] = key
            watcher.sent_wall[key] = time.time()
            watcher.sent[key] = time.monotonic()
            response = http.post(f"{s.ingest_url}/slack/events", content=raw, headers=signed_headers(SLACK_SECRET, raw))
            if response.status_code != 200:
                raise BenchError(f"ingest answered {response.status_code}: {response.text}")

        late = _paced(count, rate, converse)
    return keys, late


def _stamps(s: BenchStack, topic: str, pick: Callable[[bytes | None, bytes | None], str | None]) -> dict[str, float]:
    """Key -> the record's Kafka timestamp (epoch seconds) for every record of `topic` that `pick` names."""
    consumer = Consumer(
        {"bootstrap.servers": s.bootstrap, "group.id": f"bench-stamps-{os.getpid()}", "enable.auto.commit": False}
    )
    out: dict[str, float] = {}
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        parts = [TopicPartition(topic, p, 0) for p in meta.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=10)[1] for p in parts}
        consumer.assign(parts)
        remaining = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            key = pick(msg.key(), msg.value())
            if key is not None:
                out.setdefault(key, msg.timestamp()[1] / 1000)
            partition, offset = msg.partition(), msg.offset()
            if partition is not None and offset is not None and offset + 1 >= ends[partition]:
                remaining.discard(partition)
    finally:
        consumer.close()
    return out


def _create_command(key: bytes | None, value: bytes | None) -> str | None:
    try:
        command = json.loads(value or b"")
    except ValueError:
        return None
    if command.get("type") == "zendesk.create_ticket":
        return str(command.get("external_id"))
    return None


def stages(s: BenchStack, watcher: Watcher, keys: list[str]) -> dict[str, dict[str, float]]:
    """Median and p99 (ms) of each hop: to ingest's record, to the router's command, to the ticket,
    to the confirmation."""
    events = _stamps(s, s.topic("threadline.slack.events"), lambda k, v: (k or b"").decode() or None)
    commands = _stamps(s, s.topic("threadline.commands"), _create_command)
    hops: dict[str, list[float]] = {
        "POST -> ingest's record on Kafka": [],
        "ingest's record -> router's create_ticket command": [],
        "command -> ticket in Zendesk (zendesk-sync)": [],
        "ticket -> confirmation in Slack (zendesk-sync)": [],
    }
    for key in keys:
        seen = watcher.seen_wall.get(key, {})
        if key not in events or key not in commands or "confirmation" not in seen:
            continue
        ticket = seen.get("ticket", seen["confirmation"])
        for name, value in zip(
            hops,
            (
                events[key] - watcher.sent_wall[key],
                commands[key] - events[key],
                ticket - commands[key],
                seen["confirmation"] - ticket,
            ),
            strict=True,
        ):
            hops[name].append(max(0.0, value) * 1000)
    return {
        name: {"p50_ms": round(median(v), 1), "p99_ms": round(percentile(v, 99), 1)} for name, v in hops.items() if v
    }


def describe_stages(hops: dict[str, dict[str, float]]) -> str:
    return "; ".join(f"{name} p50 {v['p50_ms']:.0f} ms, p99 {v['p99_ms']:.0f} ms" for name, v in hops.items())


def _latency(watcher: Watcher, keys: list[str], what: str) -> list[float]:
    return [watcher.seen[k][what] * 1000 for k in keys if what in watcher.seen.get(k, {})]


def run(bootstrap: str, budget: Budget, quick: bool = False) -> list[Figure]:
    count = int(RATE_PER_SECOND * (5 if quick else SECONDS))
    e2e = Figure(
        "end_to_end",
        f"end to end at {RATE_PER_SECOND:.0f} conversations/s",
        baseline=(
            "the same two effects made directly at the same rate "
            "(zenpy ticket create, then slack_sdk post in the thread)"
        ),
    )
    iso = Figure(
        "isolation",
        f"isolation: one channel limited to {LIMITED_POSTS_PER_MINUTE} posts/min",
        baseline="the other channels' confirmations in the same load without the limit (the end-to-end run)",
    )
    with bench_stack(bootstrap, "e2e") as s:
        watcher = Watcher(s).start()
        try:
            # The first seconds after the services start (consumers joining, connections opening,
            # caches empty) are a start-up, not the steady state: a warm-up at the same rate,
            # reported in the details, not in the figure.
            warm, _ = _load(s, watcher, WARM_UP, "warm-up")
            wait_for("the warm-up's confirmations", lambda: watcher.done(warm), 120, 0.1)
            with s.measured() as window:
                keys, late = _load(s, watcher, count, "e2e")
                wait_for("every confirmation", lambda: watcher.done(keys), 120, 0.1)
            hops = stages(s, watcher, keys)
            base = _baseline(s, count)
            # Isolation: the same load, one channel rate-limited by Slack.
            s.slack.knobs.channel_posts_per_minute = {LIMITED: LIMITED_POSTS_PER_MINUTE}
            with s.measured() as limited_window:
                limited_keys, limited_late = _load(s, watcher, count, "isolation")
                others = [k for k in limited_keys if f":{LIMITED}:" not in k]
                wait_for("every other channel's confirmation", lambda: watcher.done(others), 120, 0.1)
            limited_only = [k for k in limited_keys if f":{LIMITED}:" in k]
            answered_limited = sum("confirmation" in watcher.seen.get(k, {}) for k in limited_only)
            ticketed_limited = sum("ticket" in watcher.seen.get(k, {}) for k in limited_only)
            limited_hops = stages(s, watcher, others)
        finally:
            watcher.stop()
            s.slack.knobs.channel_posts_per_minute = {}

    ticket, confirmation = _latency(watcher, keys, "ticket"), _latency(watcher, keys, "confirmation")
    for label, values, base_values in (
        ("ticket in Zendesk", ticket, base["ticket"]),
        ("confirmation in Slack", confirmation, base["confirmation"]),
    ):
        for p in (50, 95, 99):
            e2e.add(Metric(f"{label} p{p}", "ms", percentile(values, p), percentile(base_values, p), "lower"))
    e2e.note = (
        f"Stages of this run, from the records' Kafka timestamps: {describe_stages(hops)}. Profile of the run: "
        + describe("zendesk-sync", window["profiles"].get("zendesk-sync", {}))
        + "; "
        + describe("router", window["profiles"].get("router", {}), ("MainThread",))
        + ". "
        + describe_cpu(window["cpu"])
        + f" (router {1000 * window['cpu'].get('router', 0) / count:.1f} ms and zendesk-sync "
        + f"{1000 * window['cpu'].get('zendesk-sync', 0) / count:.1f} ms of CPU per conversation)."
    )
    warm_confirmation = _latency(watcher, warm, "confirmation")
    e2e.details = {
        "warm_up_conversations": len(warm),
        "warm_up_confirmation_p50_p99_ms": [percentile(warm_confirmation, 50), percentile(warm_confirmation, 99)],
        "rate_per_second": RATE_PER_SECOND,
        "conversations": count,
        "channels": BENCH_CHANNELS,
        "latest_send_seconds_behind_schedule": round(late, 3),
        "resolution_ms": 10,
        "stages": hops,
        "cpu_seconds": window["cpu"],
        "profiles": window["profiles"],
        "settings": s.settings,
    }

    free_keys = [k for k in keys if f":{LIMITED}:" not in k]
    before = _latency(watcher, free_keys, "confirmation")
    after = _latency(watcher, others, "confirmation")
    iso.add(
        Metric("other channels' confirmation p99", "ms", percentile(after, 99), percentile(before, 99), "lower"),
        Metric("other channels' confirmation p50", "ms", percentile(after, 50), percentile(before, 50), "lower"),
        Metric(
            "limited channel: confirmations posted during the run",
            "threads",
            float(answered_limited),
            float(len(limited_only)),
            "higher",
            "of its threads; the rest wait their turn",
        ),
    )
    sync_limited = limited_window["profiles"].get("zendesk-sync", {})
    iso.note = (
        f"{ticketed_limited} of the limited channel's {len(limited_only)} tickets were created meanwhile (only "
        f"its posts wait). Other channels' stages with the limit on: {describe_stages(limited_hops)}. Profile: "
        + describe("zendesk-sync", sync_limited)
        + ". "
        + describe_cpu(limited_window["cpu"])
        + "."
    )
    iso.details = {
        "limited_channel": LIMITED,
        "limited_posts_per_minute": LIMITED_POSTS_PER_MINUTE,
        "rate_per_second": RATE_PER_SECOND,
        "conversations": count,
        "other_channels_conversations": len(others),
        "limited_channel_conversations": len(limited_only),
        "limited_channel_confirmed": answered_limited,
        "limited_channel_tickets": ticketed_limited,
        "latest_send_seconds_behind_schedule": round(limited_late, 3),
        "stages_other_channels": limited_hops,
        "cpu_seconds": limited_window["cpu"],
        "profiles": limited_window["profiles"],
    }
    return [e2e, iso]


def _baseline(s: BenchStack, count: int) -> dict[str, list[float]]:
    for key, value in s.zendesk.zenpy_env().items():
        os.environ[key] = value  # zenpy reaches the sandbox through these
    zen = Zenpy(subdomain=s.zendesk.subdomain, email=s.zendesk.api_email, token=s.zendesk.api_token)
    zen.disable_caching()
    bot = WebClient(token=s.slack.bot_token, base_url=s.slack.api_url)
    alice = WebClient(token=s.slack.user_token("alice"), base_url=s.slack.api_url)
    out: dict[str, list[float]] = {"ticket": [], "confirmation": []}

    def direct(i: int) -> None:
        channel = BENCH_CHANNELS[i % len(BENCH_CHANNELS)]
        ts = alice.chat_postMessage(channel=channel, text=f"direct {i}")["ts"]
        began = time.monotonic()
        ticket = zen.tickets.create(
            Ticket(subject=f"direct {i}", description=f"direct {i}", external_id=f"direct:{channel}:{ts}")
        ).ticket
        out["ticket"].append((time.monotonic() - began) * 1000)
        bot.chat_postMessage(channel=channel, thread_ts=ts, text=f"opened ticket #{ticket.id}")
        out["confirmation"].append((time.monotonic() - began) * 1000)

    _paced(count, RATE_PER_SECOND, direct)
    return out
