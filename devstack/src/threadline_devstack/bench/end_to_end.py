"""End to end: from a signed Slack event reaching ingest to the ticket existing in Zendesk, and to
the confirmation in the Slack thread; p50/p95/p99 at a stated, steady rate of new conversations.

Each thread is first written into the Slack sandbox, then its event is POSTed to ingest signed,
as Slack delivers it; the clock starts just before that POST. A watcher looks at the sandboxes
every 10 ms (the resolution of these figures). Baseline: the same two effects made directly
from one client at the same rate (zenpy creates the ticket, slack_sdk posts in the thread),
without Kafka, router or zendesk-sync: what the two SaaS calls alone cost here.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import httpx
from slack_sdk import WebClient
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket

from threadline_devstack.bench.common import BenchError, Budget, Figure, Metric, percentile, wait_for
from threadline_devstack.bench.events import message_body, signed_headers
from threadline_devstack.bench.stack import SLACK_SECRET, BenchStack, bench_stack

RATE_PER_SECOND = 4.0
SECONDS = 25


def _watch(s: BenchStack, sent: dict[str, float], seen: dict[str, dict[str, float]], stop: threading.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        pending = [k for k in list(sent) if "confirmation" not in seen.get(k, {})]
        if pending:
            tickets = {t.get("external_id") for t in s.zendesk.tickets()}
            posted = {
                f"T0SANDBOX:{c}:{m['thread_ts']}"
                for c in ("C0SUPPORT", "C0INFRA")
                for m in s.slack.channel_messages(c)
                if m.get("bot_id") and m.get("thread_ts") and m["thread_ts"] != m["ts"]
            }
            for key in pending:
                got = seen.setdefault(key, {})
                if "ticket" not in got and key in tickets:
                    got["ticket"] = now - sent[key]
                if key in posted:
                    got.setdefault("ticket", now - sent[key])
                    got["confirmation"] = now - sent[key]
        stop.wait(0.01)


def _paced(count: int, rate: float, action: Any) -> float:
    """Call action(i) at a steady rate; return how late the last call started (seconds)."""
    began = time.monotonic()
    late = 0.0
    for i in range(count):
        due = began + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        late = max(late, time.monotonic() - due)
        action(i)
    return late


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    count = int(RATE_PER_SECOND * (5 if quick else SECONDS))
    figure = Figure(
        "end_to_end",
        "end to end",
        baseline="the same two effects made directly (zenpy ticket create, then slack_sdk post in the thread)",
        note=(
            "four Kafka hops (slack.events, router.inbound, commands, sync.results), each produced with acks=all "
            "and awaited, plus the existence checks zendesk-sync makes before each write; the tail (p99) is the "
            "processors' poll and commit cadence and zendesk-sync's one-command-at-a-time queue (see pipeline)."
        ),
    )
    with bench_stack(bootstrap, "e2e") as s, httpx.Client(timeout=10) as http:
        alice = WebClient(token=s.slack.user_token("alice"), base_url=s.slack.api_url)
        alice_id = s.slack.ws.tokens[s.slack.user_token("alice")]
        sent: dict[str, float] = {}
        seen: dict[str, dict[str, float]] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(s, sent, seen, stop), daemon=True)
        watcher.start()

        def converse(i: int) -> None:
            channel = ("C0SUPPORT", "C0INFRA")[i % 2]
            text = f"e2e {i}: cannot log in to the VPN"
            ts = alice.chat_postMessage(channel=channel, text=text)["ts"]
            raw = json.dumps(message_body(channel, alice_id, ts, text)).encode()
            key = f"T0SANDBOX:{channel}:{ts}"
            sent[key] = time.monotonic()
            response = http.post(f"{s.ingest_url}/slack/events", content=raw, headers=signed_headers(SLACK_SECRET, raw))
            if response.status_code != 200:
                raise BenchError(f"ingest answered {response.status_code}: {response.text}")

        try:
            late = _paced(count, RATE_PER_SECOND, converse)
            wait_for("every confirmation", lambda: all("confirmation" in seen.get(k, {}) for k in sent), 120, 0.1)
        finally:
            stop.set()
            watcher.join(5)
        base = _baseline(s, count)
    ticket = [v["ticket"] * 1000 for v in seen.values()]
    confirmation = [v["confirmation"] * 1000 for v in seen.values()]
    for label, values, base_values in (
        ("ticket in Zendesk", ticket, base["ticket"]),
        ("confirmation in Slack", confirmation, base["confirmation"]),
    ):
        for p in (50, 95, 99):
            figure.add(Metric(f"{label} p{p}", "ms", percentile(values, p), percentile(base_values, p), "lower"))
    figure.details = {
        "rate_per_second": RATE_PER_SECOND,
        "conversations": count,
        "latest_send_seconds_behind_schedule": round(late, 3),
        "resolution_ms": 10,
        "settings": s.settings,
    }
    return figure


def _baseline(s: BenchStack, count: int) -> dict[str, list[float]]:
    for key, value in s.zendesk.zenpy_env().items():
        os.environ[key] = value  # zenpy reaches the sandbox through these
    zen = Zenpy(subdomain=s.zendesk.subdomain, email=s.zendesk.api_email, token=s.zendesk.api_token)
    zen.disable_caching()
    bot = WebClient(token=s.slack.bot_token, base_url=s.slack.api_url)
    alice = WebClient(token=s.slack.user_token("alice"), base_url=s.slack.api_url)
    out: dict[str, list[float]] = {"ticket": [], "confirmation": []}

    def direct(i: int) -> None:
        channel = ("C0SUPPORT", "C0INFRA")[i % 2]
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
