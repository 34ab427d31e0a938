"""Drills of zendesk-sync's engine: nothing waits behind anything else, nothing is given up.

- Zendesk answers 503 for longer than any fixed number of attempts would last (some requests
  after doing their work): every question gets exactly one ticket once it is back, replies in
  order, and a question kept waiting hears once that it is queued.
- One channel's posts are rate-limited by Slack: the other channel's conversations are all
  answered while the limited one still waits, and the limited one catches up, once each.
- The kill switch on under load: nothing is read, nothing committed; switched off, everything
  that arrived meanwhile is handled once.
"""

from __future__ import annotations

import time
import urllib.request

import pytest

from threadline_devstack.kafka_state import group_lag, record_count

from .conftest import MEMBERS, Ledger, Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUEUED = "Your request is queued"


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    return {"zendesk-sync": {"max_backoff_seconds": "1", "queued_notice_after_seconds": "3"}}


def retries(p: Pipeline, command_type: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{p.ports['zendesk-sync']}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    wanted = (f'type="{command_type}"', 'service="zendesk"')
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("threadline_zendesk_sync_retries_total{") and all(w in line for w in wanted)
    )


def bot_texts(p: Pipeline, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts]


def confirmed(p: Pipeline, channel: str, ts: str) -> int:
    """Posts in the thread that tell the ticket's number (not the queued notice)."""
    return sum("I opened ticket" in t for t in bot_texts(p, channel, ts))


def replies_in_order(p: Pipeline, ledger: Ledger, replies: int) -> bool:
    for channel, ts in ledger.roots:
        [ticket] = [t for t in p.zendesk.tickets() if t["external_id"] == f"T0SANDBOX:{channel}:{ts}"]
        bodies = [c["body"] for c in p.zendesk.comments_of(ticket["id"])][1:]
        numbers = [int(b.split(" reply ")[1].split()[0]) for b in bodies if " reply " in b]
        if numbers != list(range(replies)):
            return False
    return True


@pytest.mark.timeout(240)
def test_a_zendesk_outage_longer_than_any_retry_budget_loses_nothing(pipeline: Pipeline):
    p = pipeline
    ledger = Ledger(replies=2)
    # Down: every request fails, a third of them after doing their work (the answer is lost).
    p.zendesk.set_knobs(error_rate=1.0, error_status=503, errors_after_commit=True)
    started = time.monotonic()
    for i in range(6):
        ledger.converse(p, i, "outage")
    # The old engine gave up after 6 attempts (about ten seconds); this outage outlasts that, and
    # every question waiting that long hears once that it is queued.
    wait_until(
        "every question told it is queued",
        lambda: all(any(QUEUED in t for t in bot_texts(p, c, ts)) for c, ts in ledger.roots),
        timeout=60,
    )
    wait_until(
        "each question retried past the old engine's give-up (6 attempts)",
        lambda: retries(p, "zendesk.create_ticket") >= 12 * len(ledger.roots),
        timeout=60,
    )
    assert not any(confirmed(p, c, ts) for c, ts in ledger.roots)  # nobody was told a ticket exists
    down = time.monotonic() - started
    p.zendesk.set_knobs(error_rate=0.0)
    wait_until("every ticket confirmed", lambda: all(confirmed(p, c, ts) for c, ts in ledger.roots), timeout=120)
    wait_until("every reply on its ticket, in order", lambda: replies_in_order(p, ledger, 2), timeout=60)
    p.settle()  # every retried command done and committed: a second ticket or notice would be there now
    for channel, ts in ledger.roots:
        [ticket] = [t for t in p.zendesk.tickets() if t["external_id"] == f"T0SANDBOX:{channel}:{ts}"]
        assert len(p.zendesk.comments_of(ticket["id"])) == 3  # the question and its two replies, once each
        texts = bot_texts(p, channel, ts)
        assert confirmed(p, channel, ts) == 1 and sum(QUEUED in t for t in texts) == 1, texts
        assert not [t for t in texts if "could not update Zendesk" in t], texts
    print(f"\ndrill: Zendesk down {down:.0f}s under {len(ledger.roots)} conversations: lost 0, duplicated 0")


@pytest.mark.timeout(240)
def test_one_rate_limited_channel_does_not_hold_up_the_others(pipeline: Pipeline):
    p = pipeline
    # Slack lets the bot post twice a window in C0INFRA (a 10 s window here, a minute in Slack):
    # its confirmations queue behind each other.
    p.slack.knobs.channel_posts_window_seconds = 10.0
    p.slack.knobs.channel_posts_per_minute = {"C0INFRA": 2}
    limited, free = Ledger(replies=0), Ledger(replies=1)
    for i in range(4):
        limited.converse(p, 1 + 2 * i, "limited")  # odd i: C0INFRA
    for i in range(6):
        free.converse(p, 2 * i, "free")  # even i: C0SUPPORT
    wait_until("the free channel's conversations", lambda: free.complete(p), timeout=90)
    answered = sum(bool(bot_texts(p, c, ts)) for c, ts in limited.roots)
    # Everything in the free channel was answered while the limited one still waits its turn.
    assert answered < len(limited.roots), "the limit never held: the drill proves nothing"
    p.slack.knobs.channel_posts_per_minute = {}
    wait_until("the limited channel, caught up", lambda: limited.complete(p), timeout=120)
    p.settle()
    for ledger in (limited, free):
        counts = ledger.counts(p)
        assert (counts["lost"], counts["duplicated"]) == (0, 0), counts
    assert MEMBERS["C0INFRA"]  # the limited channel is a real one of the fixture's
    print(f"\ndrill: {answered}/{len(limited.roots)} limited threads answered when the free channel was done")


@pytest.mark.timeout(240)
def test_the_kill_switch_pauses_and_loses_nothing(pipeline: Pipeline, kafka_bootstrap, kafka_topics):
    p = pipeline
    sync = p.processes["zendesk-sync"]
    sync.env["THREADLINE_ZENDESK_SYNC_DISABLE_MESSAGE_PROCESSING"] = "true"
    p.restart("zendesk-sync", kill=False)
    ledger = Ledger(replies=1)
    for i in range(4):
        ledger.converse(p, i, "paused")
    commands = kafka_topics.commands
    # The router decided everything; zendesk-sync read none of it.
    wait_until("the router's commands on Kafka", lambda: record_count(kafka_bootstrap, commands) >= 8, timeout=60)
    wait_until(
        "the router caught up",
        lambda: group_lag(kafka_bootstrap, "threadline-router", [kafka_topics.slack_events]) == 0,
        timeout=60,
    )
    waiting = group_lag(kafka_bootstrap, "threadline-zendesk-sync", [commands])
    assert waiting == record_count(kafka_bootstrap, commands) and p.zendesk.tickets() == []
    sync.env["THREADLINE_ZENDESK_SYNC_DISABLE_MESSAGE_PROCESSING"] = "false"
    p.restart("zendesk-sync", kill=False)
    wait_until("everything that waited", lambda: ledger.complete(p), timeout=120)
    p.settle()
    counts = ledger.counts(p)
    assert (counts["lost"], counts["duplicated"]) == (0, 0), counts
    print(f"\ndrill: {waiting} commands waited in Kafka while the kill switch was on; then {counts}")
